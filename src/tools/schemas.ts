import { z } from "zod";
import { looksLikeAddress, parseWebAddress } from "../format/web.js";
import { DISCRETE_LIMIT, EMAILS_TYPES, MAX_PER_PAGE } from "../zoho/related-records.js";

/**
 * Input schemas in Zoho's own parameter names. Everything that reaches a URL path is a checked
 * identifier; everything else is typed, so bad input is refused before any request and the
 * message names the field. Descriptions are short on purpose: every client sends all of this to
 * the model with each request (issue 12 measures it in `npm run bench`).
 */

/** What Zoho allows in a module or related-list API name (the path can never be steered). */
export const NAME_MAX = 100;
const NAME = /^[A-Za-z]\w*$/;
/** Zoho record ids are 19 digits today; 30 leaves room without letting a path grow unbounded. */
export const ID_MAX = 30;
const ID = /^\d+$/;

/**
 * A JSON number cannot carry a 19-digit id: past 2^53 digits are lost (4876876000000376008
 * arrives as 4876876000000376000), so a number is refused with the reason, never rounded.
 */
const quoted = (example: string) => (iss: { input: unknown }) =>
  typeof iss.input === "number"
    ? `must be a string, e.g. "${example}": a JSON number loses digits past 2^53 (9007199254740992), so a Zoho id sent as a number arrives changed`
    : iss.input === undefined
      ? "is required"
      : "must be a string";

/**
 * Limits are published (JSON Schema keywords) in get_related_records, where the model reads them,
 * and only enforced in the activity tools, which point there instead of repeating them.
 */
type Publish = boolean;

/** Checked by one refine so the message can say which rule failed; the JSON Schema carries the pattern. */
function identifier(what: string, example: string, max: number, pattern: RegExp, jsonPattern: string, rule: string, publish: Publish = true) {
  const checked = z.string({ error: quoted(example) }).refine((s) => s.length <= max && pattern.test(s), {
    error: (iss) =>
      typeof iss.input === "string" && iss.input.length > max
        ? `is ${iss.input.length} characters long: ${what} is at most ${max} characters`
        : `must be ${what}: ${rule} (e.g. ${example})`,
  });
  return publish ? checked.meta({ pattern: jsonPattern }) : checked;
}

const apiName = (what: string, example: string, publish?: Publish) =>
  identifier(what, example, NAME_MAX, NAME, `^[A-Za-z]\\w{0,${NAME_MAX - 1}}$`, "letters, digits and _ only", publish);
const zohoId = (what: string, publish?: Publish) => identifier(what, "4876876000000376008", ID_MAX, ID, `^\\d{1,${ID_MAX}}$`, "digits only", publish);

/** A whole number from min to max; published as `integer` with its bounds, or as a bare `integer`. */
function int(min: number, max: number, publish: Publish) {
  if (publish) return z.number().int().min(min).max(max);
  return z
    .number()
    .refine((n) => Number.isInteger(n) && n >= min && n <= max, { error: `must be a whole number from ${min} to ${max}` })
    .meta({ type: "integer" });
}

/** A whole number from min to max, checked but published as a bare `integer`. */
export const wholeNumber = (min: number, max: number) => int(min, max, false);

/** An array of min to max items. */
function list<T extends z.ZodType>(item: T, min: number, max: number, publish: Publish) {
  const items = z.array(item);
  if (publish) return items.min(min).max(max);
  return items.refine((a) => a.length >= min && a.length <= max, { error: `must have ${min} to ${max} items` });
}

export const moduleApiName = apiName("a module API name", "Leads").describe("Parent module, e.g. Leads");
export const recordId = zohoId("a Zoho record id").describe("Parent record id (a string)");

/** A pasted web address is at most this long (Zoho's are about 80 characters). */
const ADDRESS_MAX = 2000;

/**
 * `record_id` where a record is named: its id (digits, as a string) or its Zoho CRM web address
 * (`https://crm.zoho.com/crm/{org}/tab/{Module}/{id}`), which also names the module (tools/record-ref.ts).
 */
export function recordReference(publish: Publish = true) {
  const checked = z.string({ error: quoted("4876876000000376008") }).refine(
    (s) => (s.length <= ID_MAX && ID.test(s)) || (s.length <= ADDRESS_MAX && parseWebAddress(s) !== undefined),
    {
      error: (iss) =>
        typeof iss.input === "string" && looksLikeAddress(iss.input)
          ? "must be a Zoho CRM record's web address, https://crm.zoho.{com|eu|in|com.au|jp|...}/crm/{org}/tab/{Module}/{id}, or a record id"
          : typeof iss.input === "string" && iss.input.length > ID_MAX && ID.test(iss.input)
            ? `is ${iss.input.length} characters long: a Zoho record id is at most ${ID_MAX} characters`
            : "must be a Zoho record id: digits only (e.g. 4876876000000376008), or the record's Zoho CRM web address",
    },
  );
  return publish ? checked.describe("Record id, or its Zoho CRM web address") : checked;
}

/** module_api_name unpublished: checked, but neither pattern nor description in tools/list (get_record). */
export const moduleName = apiName("a module API name", "Leads", false);

/** module_api_name beside a record reference: not needed when record_id is a web address. */
export const moduleOfRecord = apiName("a module API name", "Leads").describe("e.g. Leads; optional with a web address");
export const relatedListApiName = apiName("a related list API name", "Notes").describe("e.g. Notes (see list_related_lists)");
export const listName = apiName("a related list API name", "Notes", false);

const fieldName = z.string().refine((f) => f.length <= NAME_MAX + 1 && /^\$?[A-Za-z]\w*$/.test(f), {
  error: (iss) =>
    typeof iss.input === "string" && iss.input.length > NAME_MAX + 1
      ? `is ${iss.input.length} characters long: a field API name is at most ${NAME_MAX} characters`
      : "must be a field API name (e.g. Note_Title)",
});

/** Zoho's own form is one comma-separated string (`fields=Owner,Email`): take that too. */
const fields = (publish: Publish) =>
  z.preprocess((v) => (typeof v === "string" ? v.split(",").map((f) => f.trim()).filter(Boolean) : v), list(fieldName, 1, 50, publish));

/**
 * If-Modified-Since goes out in the form Zoho documents, 2019-07-25T15:26:49+05:30: Z becomes
 * +00:00, fractions of a second are dropped (the header has whole seconds), missing seconds are
 * :00, and +0530 / +05 become +05:30 / +05:00. A time with no offset is refused: it names no moment.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

export function zohoDateTime(text: string): string | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = "00", zone] = m as unknown as [string, string, string, string, string, string, string | undefined, string];
  const offset = zone.toUpperCase() === "Z" ? "+00:00" : `${zone.slice(0, 3)}:${zone.slice(3).replace(":", "") || "00"}`;
  const normal = `${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`;
  // Date.parse accepts exactly the real calendar dates and times (no 25:00, no Feb 30 round-trip).
  const date = new Date(normal);
  if (Number.isNaN(date.getTime()) || Number(offset.slice(1, 3)) > 14 || Number(offset.slice(4)) > 59) return undefined;
  if (new Date(`${y}-${mo}-${d}T00:00:00Z`).toISOString().slice(0, 10) !== `${y}-${mo}-${d}`) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return normal;
}

const ifModifiedSince = z
  .string()
  .meta({ format: "date-time" })
  .transform((text, ctx) => {
    const normal = zohoDateTime(text);
    if (normal) return normal;
    ctx.addIssue({
      code: "custom",
      message: /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?$/.test(text.trim())
        ? "needs a UTC offset (Z or +05:30): a time without one names no single moment"
        : "must be an ISO 8601 date-time, e.g. 2026-07-25T15:26:49+05:30",
    });
    return z.NEVER;
  });

/** Field API names, an array or Zoho's comma-separated form (search_records takes them too). */
export const fieldList = fields;

/** The parameters every related-records tool shares (all but the list's name), each described once. */
function queryParams(publish: Publish) {
  const d = <T extends z.ZodType>(schema: T, text: string): T => (publish ? schema.describe(text) : schema);
  return {
    module_api_name: (publish ? moduleOfRecord : apiName("a module API name", "Leads", false)).optional(),
    record_id: recordReference(publish),
    fields: d(fields(publish).optional(), "Field API names (default: the usual ones)"),
    page: d(int(1, DISCRETE_LIMIT, publish).optional(), "Read this page only"),
    per_page: d(int(1, MAX_PER_PAGE, publish).optional(), "One-page reads (walks ask 200)"),
    page_token: d((publish ? z.string().min(1).max(2000) : z.string().refine((t) => t.length >= 1 && t.length <= 2000, { error: "must be 1 to 2000 characters" })).optional(), "next_page_token of an earlier result"),
    ids: d(list(zohoId("a record id", publish), 1, 100, publish).optional(), "Only these related records"),
    sort_order: d(z.enum(["asc", "desc"]).optional(), "default desc"),
    sort_by: d(z.enum(["id", "Created_Time", "Modified_Time"]).optional(), "default id"),
    converted: d(z.enum(["true", "false", "both"]).optional(), "default false"),
    if_modified_since: d(ifModifiedSince.optional(), "Only records modified since"),
    // 100,000: Zoho's own ceiling for one related list walk (PAGINATION_LIMIT_EXCEEDED).
    max_records: d(int(1, 100_000, publish).optional(), "Records to walk (default 200, cap ZOHO_MAX_RECORDS)"),
  };
}

/** The Emails list's own filters, in Zoho's names (get_related_records only; refused for other lists). */
export const emailsFilterShape = {
  type: z.enum(EMAILS_TYPES).optional().describe("Emails only (all_contacts_*: an account's contacts' emails)"),
  owner_id: zohoId("a Zoho user id").optional().describe("Emails only, with type user_emails: whose mailbox"),
};

/** get_related_records says what each parameter means and its limits... */
export const queryShape = queryParams(true);
/** ...the activity tools take the same parameters and point there instead of repeating them. */
export const activityQueryShape = queryParams(false);

/** The JSON Schema's `$schema` line says nothing a client needs, in every tools/list: leave it out. */
export const NO_SCHEMA_KEYWORD = { $schema: undefined } as unknown as Record<string, unknown>;

/** Rules that tie two fields together; the message names both. */
export function checkQuery(
  input: { page?: number | undefined; page_token?: string | undefined; per_page?: number | undefined },
  ctx: z.RefinementCtx,
): void {
  if (input.page !== undefined && input.page_token !== undefined) {
    ctx.addIssue({ code: "custom", path: ["page_token"], message: "page and page_token cannot be used together: page_token replaces page" });
  }
  // Without per_page the page size is only known with the configuration: runRelatedQuery checks that case.
  if (input.page !== undefined && input.per_page !== undefined && input.page * input.per_page > DISCRETE_LIMIT) {
    ctx.addIssue({ code: "custom", path: ["page"], message: pageBeyondLimit(input.per_page) });
  }
}

export function pageBeyondLimit(perPage: number): string {
  return `page × per_page (${perPage}) must stay within record ${DISCRETE_LIMIT}; beyond it use page_token from the previous result`;
}

/**
 * Records as published: objects, each with an id. Checked as a plain array only: the
 * server built them from Zoho's answer a moment ago, and a per-record check (which also copies
 * each record) cost the SDK 7-30 ms on a 2,000-record result for nothing it could find.
 */
export const recordsOut = z.array(z.unknown()).meta({ items: { type: "object", required: ["id"] } });

/**
 * A nullable string as `anyOf` (string, null), not `type: ["string","null"]`, which single-type
 * dialects (Gemini's OpenAPI subset) reject: zod keeps `anyOf` when a branch carries a description.
 */
export const nullableString = () => z.string().min(1).nullable();

/**
 * structuredContent of every related-records tool (CONTRACT "Results"); three tools send this
 * schema in every tools/list.
 */
export const relatedOutputShape = {
  module_api_name: z.string(),
  record_id: z.string(),
  related_list_api_name: z.string(),
  records: recordsOut,
  count: z.number(),
  more_records: z.boolean(),
  next_page_token: nullableString(),
  /** Zoho's info.previous_page_token and info.page_token_expiry, passed on as given (null when absent). */
  previous_page_token: nullableString(),
  page_token_expiry: nullableString(),
  fields: z.array(z.string()),
  not_modified: z.boolean(),
  /** Only when max_records cut a page short: fetch that page again this way and skip `skip` records. */
  resume: z
    .object({ page_token: z.string().optional(), page: z.number().optional(), per_page: z.number(), skip: z.number() })
    // Explained where it appears (the text's last line); published as a plain object to keep tools/list small.
    .meta({ properties: undefined, required: undefined, additionalProperties: undefined })
    .optional(),
};

/**
 * Nested objects are published like the top level: open, and without `required` (their fields are
 * always present, as the docs say); either keyword only costs characters in every tools/list.
 */
export const OPEN = { additionalProperties: undefined, required: undefined } as unknown as Record<string, unknown>;
