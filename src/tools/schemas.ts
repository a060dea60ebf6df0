import { z } from "zod";
import { API_NAME, RECORD_ID } from "../zoho/client.js";
import { DISCRETE_LIMIT, MAX_PER_PAGE } from "../zoho/related-records.js";

/**
 * Input schemas in Zoho's own parameter names. Everything that reaches a URL path is a checked
 * identifier; everything else is typed, so bad input is refused before any request and the
 * message names the field.
 */
export const moduleApiName = z
  .string()
  .regex(API_NAME, "must be a module API name: letters, digits and _ only (e.g. Leads)")
  .describe("Parent module API name, e.g. Leads, Accounts, Deals");

export const recordId = z.string().regex(RECORD_ID, "must be a Zoho record id: digits only").describe("Parent record id");

export const relatedListApiName = z
  .string()
  .regex(API_NAME, "must be a related list API name: letters, digits and _ only (e.g. Notes)")
  .describe("Related list API name, e.g. Notes, Contacts, Deals (see list_related_lists)");

/**
 * Checked as z.iso.datetime does, but declared as plain `format: date-time`: the regex zod would
 * publish is ~470 characters, sent in every tools/list for each of three tools.
 */
const isoDateTime = z.iso.datetime({ offset: true });

const fieldName = z.string().regex(/^\$?[A-Za-z][A-Za-z0-9_]{0,99}$/, "must be a field API name (e.g. Note_Title)");

/** The parameters every related-records tool shares (all but the list's name). */
export const queryShape = {
  module_api_name: moduleApiName,
  record_id: recordId,
  fields: z.array(fieldName).min(1).max(50).optional().describe("Field API names, 1-50; sensible defaults if omitted"),
  page: z.number().int().min(1).max(DISCRETE_LIMIT).optional().describe("Fetch only this page (no auto-pagination)"),
  per_page: z.number().int().min(1).max(MAX_PER_PAGE).optional().describe("Records per page, 1-200"),
  page_token: z.string().min(1).max(2000).optional().describe("next_page_token of an earlier result; fetches that one page"),
  ids: z.array(z.string().regex(RECORD_ID, "must be a record id: digits only")).min(1).max(100).optional().describe("Only these related record ids"),
  sort_order: z.enum(["asc", "desc"]).optional().describe("Sort direction (Zoho's default: desc)"),
  sort_by: z.enum(["id", "Created_Time", "Modified_Time"]).optional().describe("Sort key (Zoho's default: id)"),
  converted: z.enum(["true", "false", "both"]).optional().describe("Converted records: true, false (Zoho's default) or both"),
  if_modified_since: z
    .string()
    .refine((s) => isoDateTime.safeParse(s).success, { error: "must be an ISO 8601 date-time, e.g. 2026-07-25T15:26:49+05:30" })
    .meta({ format: "date-time" })
    .optional()
    .describe("Only records modified after this ISO 8601 time"),
  // 100,000: Zoho's own ceiling for one related list walk (PAGINATION_LIMIT_EXCEEDED).
  max_records: z.number().int().min(1).max(100_000).optional().describe("Auto-pagination stops here (default 200, at most ZOHO_MAX_RECORDS)"),
};

/** Rules that tie two fields together; the message names both. */
export function checkQuery(
  input: { page?: number | undefined; page_token?: string | undefined; per_page?: number | undefined },
  ctx: z.RefinementCtx,
): void {
  if (input.page !== undefined && input.page_token !== undefined) {
    ctx.addIssue({ code: "custom", path: ["page_token"], message: "page and page_token cannot be used together: page_token replaces page" });
  }
  if (input.page !== undefined && input.page * (input.per_page ?? MAX_PER_PAGE) > DISCRETE_LIMIT) {
    ctx.addIssue({
      code: "custom",
      path: ["page"],
      message: `page × per_page must stay within record ${DISCRETE_LIMIT}; beyond it use page_token from the previous result`,
    });
  }
}

// looseObject, not catchall(z.unknown()): the same JSON Schema, without visiting every key of every
// record when the SDK checks a result of thousands of records against it.
export const recordOut = z.looseObject({ id: z.string() });

/** structuredContent of every related-records tool (CONTRACT.md). */
export const relatedOutputShape = {
  module_api_name: z.string(),
  record_id: z.string(),
  related_list_api_name: z.string(),
  records: z.array(recordOut),
  count: z.number().int().min(0).max(100_000),
  more_records: z.boolean(),
  next_page_token: z.string().nullable(),
  /** Zoho's info.previous_page_token and info.page_token_expiry, passed on as given (null when absent). */
  previous_page_token: z.string().nullable(),
  page_token_expiry: z.string().nullable(),
  fields: z.array(z.string()),
  not_modified: z.boolean(),
  /** Only when max_records cut a page short: fetch that page again this way and skip `skip` records. */
  resume: z.object({ page_token: z.string().optional(), page: z.number().optional(), per_page: z.number(), skip: z.number() }).optional(),
};
