import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { linkFor, linkPlan } from "../format/links.js";
import { columnsOf, moduleOf, recordLine, recordRow } from "../format/records.js";
import { checkEmailsQuery, isEmailsList } from "../zoho/emails.js";
import { InputError } from "../zoho/errors.js";
import { MAX_PER_PAGE, getRelatedRecordsPage, walkRelatedRecords, type RelatedQuery, type WalkResult } from "../zoho/related-records.js";
import { planList } from "./default-fields.js";
import type { queryShape } from "./schemas.js";
import type { ToolDeps, ToolExtra } from "./types.js";

export type QueryArgs = z.output<z.ZodObject<typeof queryShape>>;

/** Auto-pagination default: one page, what a model needs at a glance. */
export const DEFAULT_MAX_RECORDS = 200;

/**
 * The body of get_related_records, get_open_activities and get_closed_activities: resolve the
 * list's target module and default fields, fetch one page or walk the list, and answer with a
 * summary, one resource link per record and the structured result.
 */
export async function runRelatedQuery(
  args: QueryArgs,
  relatedListApiName: string,
  extra: ToolExtra,
  deps: ToolDeps,
): Promise<CallToolResult> {
  const { config, client } = deps;
  // ZOHO_MAX_RECORDS bounds what one call fetches, one page included.
  if (args.per_page !== undefined && args.per_page > config.maxRecords) {
    throw new InputError(`per_page: ${args.per_page} is above ZOHO_MAX_RECORDS (${config.maxRecords}), the most records one call may fetch`);
  }
  if (isEmailsList(relatedListApiName)) checkEmailsQuery(args);
  const { module: listModule, grouped, hasOwnModule, fields } = await planList(deps, args.module_api_name, relatedListApiName, args.fields);
  const onePage = args.page !== undefined || args.page_token !== undefined;

  const query: RelatedQuery = {
    module_api_name: args.module_api_name,
    record_id: args.record_id,
    related_list_api_name: relatedListApiName,
    fields,
    page: args.page,
    // Zoho's own default page is 200 records: ask for fewer when the cap is lower.
    per_page: args.per_page ?? (onePage && config.maxRecords < MAX_PER_PAGE ? config.maxRecords : undefined),
    page_token: args.page_token,
    ids: args.ids,
    sort_order: args.sort_order,
    sort_by: args.sort_by,
    converted: args.converted,
    if_modified_since: args.if_modified_since,
  };

  const requested = args.max_records ?? DEFAULT_MAX_RECORDS;
  const maxRecords = Math.min(requested, config.maxRecords);
  const progressToken = extra._meta?.progressToken;
  const onProgress =
    progressToken === undefined
      ? undefined
      : (progress: number, total: number) =>
          void extra
            .sendNotification({ method: "notifications/progress", params: { progressToken, progress, total, message: `${progress} of up to ${total} records` } })
            .catch(() => undefined);

  const result = onePage
    ? { ...(await getRelatedRecordsPage(client, query, extra.signal)), resume: null, per_page: args.per_page }
    : await walkRelatedRecords(client, query, { maxRecords, signal: extra.signal, onProgress });

  const structured = {
    module_api_name: args.module_api_name,
    record_id: args.record_id,
    related_list_api_name: relatedListApiName,
    records: result.records,
    count: result.records.length,
    more_records: result.more_records,
    next_page_token: result.next_page_token,
    previous_page_token: result.previous_page_token,
    page_token_expiry: result.page_token_expiry,
    fields,
    not_modified: result.not_modified,
    ...(result.resume ? { resume: { ...result.resume, per_page: result.per_page } } : {}),
  };

  const lines = [headline(args, relatedListApiName, result.records.length, result.more_records, fields, grouped)];
  for (const record of result.records) lines.push(grouped ? recordLine(record, fields, moduleOf(record, listModule)) : recordRow(record, fields));
  lines.push(footer({ args, result, onePage, maxRecords, requested, cap: config.maxRecords }));
  const links = linkPlan(relatedListApiName, hasOwnModule, grouped);
  if (links.kind === "none" && result.records.length) lines.push(links.why);

  return {
    content: [
      { type: "text", text: lines.join("\n") },
      ...result.records.flatMap((r) => linkFor(r, links, args.module_api_name, args.record_id, listModule) ?? []),
    ],
    structuredContent: structured,
  };
}

/** Zoho's names for the two activity views are long; the CRM shows them as these. */
export const LIST_LABELS: Record<string, string> = {
  Activities_Chronological_View: "Open activities",
  Activities_Chronological_View_History: "Closed activities",
};

function headline(args: QueryArgs, list: string, count: number, more: boolean, fields: string[], grouped: boolean): string {
  const n = `${count}${more ? "+" : ""} record${count === 1 && !more ? "" : "s"}`;
  // One module: the lines are columns, named here once. Activity views (and no lines): each line names its fields.
  const layout = grouped || count === 0 ? `Fields: ${fields.join(", ")}` : `Columns: ${columnsOf(fields)}`;
  return `${LIST_LABELS[list] ?? list} of ${args.module_api_name} ${args.record_id}: ${n}. ${layout}`;
}

function footer(o: {
  args: QueryArgs;
  result: Pick<WalkResult, "records" | "more_records" | "next_page_token" | "page_token_expiry" | "not_modified" | "resume"> & { per_page: number | undefined };
  onePage: boolean;
  maxRecords: number;
  requested: number;
  cap: number;
}): string {
  const { args, result } = o;
  if (result.not_modified) return `Nothing changed since ${args.if_modified_since} (HTTP 304).`;
  const notes: string[] = [];
  if (!o.onePage && o.args.max_records !== undefined && o.requested > o.cap) notes.push(`max_records was lowered to ZOHO_MAX_RECORDS (${o.cap}).`);
  // Zoho's page tokens expire (info.page_token_expiry): say when, where a token is handed on.
  const expiry = result.page_token_expiry ? ` (valid until ${result.page_token_expiry})` : "";
  const token = result.next_page_token ? ` page_token="${result.next_page_token}"${expiry}` : "";
  if (!result.more_records) {
    notes.push(result.records.length === 0 ? "No related records." : "That is all of them.");
  } else if (o.onePage) {
    notes.push(token ? `More records: call again with${token} (same fields, per_page, sort and filters, no page).` : "More records exist.");
  } else {
    const raise = o.maxRecords < o.cap ? ` raise max_records (up to ${o.cap}) or` : "";
    const resume = result.resume;
    const next = token
      ? ` continue with${token} and the same fields, per_page (${result.per_page}), sort and filters`
      : resume
        ? ` continue with ${"page_token" in resume ? `page_token="${resume.page_token}"${expiry}` : `page=${resume.page}`} and the same fields, per_page (${result.per_page}), sort and filters, skipping its first ${resume.skip} records (the last ones shown here)`
        : " narrow the request with ids or if_modified_since";
    notes.push(`Stopped at max_records (${o.maxRecords}); more records exist:${raise}${next}.`);
  }
  return notes.join(" ");
}
