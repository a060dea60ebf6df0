import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { TextBudget, continueAt } from "../format/budget.js";
import { linkFor, linkPlan } from "../format/links.js";
import { openInZoho, webAddresses, type WebAddresses } from "../format/web.js";
import { columnsOf, moduleOf, recordLine, recordRow } from "../format/records.js";
import { EMAILS_PER_CALL, checkEmailsFilters, checkEmailsQuery, isEmailsList, listReader } from "../zoho/emails.js";
import { InputError, ZohoError } from "../zoho/errors.js";
import { recordNotInModule } from "../zoho/record-check.js";
import { DISCRETE_LIMIT, MAX_PER_PAGE, type EmailsType, type RelatedQuery, type WalkResult } from "../zoho/related-records.js";
import { planList, unknownFieldsNote } from "./default-fields.js";
import { resolveRecord, type RecordRef } from "./record-ref.js";
import { pageBeyondLimit, type queryShape } from "./schemas.js";
import type { ToolDeps, ToolExtra } from "./types.js";

/** The shared parameters, and the Emails list's own filters (get_related_records only). */
export type QueryInput = z.output<z.ZodObject<typeof queryShape>> & { type?: EmailsType | undefined; owner_id?: string | undefined };
/** The input with its record resolved (record-ref.ts): a module API name and a record id. */
export type QueryArgs = QueryInput & RecordRef;

/** Auto-pagination default: one page, what a model needs at a glance. */
export const DEFAULT_MAX_RECORDS = 200;

/**
 * The body of get_related_records, get_open_activities and get_closed_activities: resolve the
 * list's target module and default fields, fetch one page or walk the list, and answer with a
 * summary, one resource link per record and the structured result.
 */
export async function runRelatedQuery(
  input: QueryInput,
  relatedListApiName: string,
  extra: ToolExtra,
  deps: ToolDeps,
): Promise<CallToolResult> {
  const { config, client } = deps;
  const args: QueryArgs = { ...input, ...(await resolveRecord(input, deps)) };
  // ZOHO_MAX_RECORDS bounds what one call fetches, one page included.
  if (args.per_page !== undefined && args.per_page > config.maxRecords) {
    throw new InputError(`per_page: ${args.per_page} is above ZOHO_MAX_RECORDS (${config.maxRecords}), the most records one call may fetch`);
  }
  const emails = isEmailsList(relatedListApiName);
  checkEmailsFilters(args, args.module_api_name, relatedListApiName);
  if (emails) {
    checkEmailsQuery(args);
    // Zoho's Emails API answers ten at a time, whatever one asks: a lower cap could not hold.
    if (config.maxRecords < EMAILS_PER_CALL) {
      throw new InputError(`related_list_api_name: Emails are read ${EMAILS_PER_CALL} at a time (Zoho's fixed page), more than ZOHO_MAX_RECORDS (${config.maxRecords}) lets one call fetch; raise ZOHO_MAX_RECORDS to ${EMAILS_PER_CALL} or more`);
    }
  }
  const onePage = args.page !== undefined || args.page_token !== undefined;
  // Zoho's own default page is 200 records: ask for fewer when the cap is lower.
  const perPageSent = args.per_page ?? (onePage && config.maxRecords < MAX_PER_PAGE ? config.maxRecords : undefined);
  if (args.page !== undefined && args.page * (perPageSent ?? MAX_PER_PAGE) > DISCRETE_LIMIT) {
    throw new InputError(`page: ${pageBeyondLimit(perPageSent ?? MAX_PER_PAGE)}`);
  }
  const { module: listModule, grouped, hasOwnModule, fields, fields_source } = await planList(deps, args.module_api_name, relatedListApiName, args.fields);

  const query: RelatedQuery = {
    module_api_name: args.module_api_name,
    record_id: args.record_id,
    related_list_api_name: relatedListApiName,
    fields,
    page: args.page,
    // A walk asks for the largest pages whatever per_page says (planWalk): it only sizes one-page reads.
    per_page: onePage ? perPageSent : undefined,
    page_token: args.page_token,
    ids: args.ids,
    sort_order: args.sort_order,
    sort_by: args.sort_by,
    converted: args.converted,
    if_modified_since: args.if_modified_since,
    type: args.type,
    owner_id: args.owner_id,
  };

  const requested = args.max_records ?? DEFAULT_MAX_RECORDS;
  const maxRecords = Math.min(requested, config.maxRecords);
  const progressToken = extra._meta?.progressToken;
  const onProgress =
    progressToken === undefined
      ? undefined
      : (progress: number, total: number) =>
          void extra
            .sendNotification({ method: "notifications/progress", params: { progressToken, progress, total, message: `${progress} of up to ${total} record${total === 1 ? "" : "s"}` } })
            .catch(() => undefined);

  // The web-address template (GET /org and the modules' web names, cached) is read beside the list,
  // never after it; without the org there is no template, and no failure.
  const web = webAddresses(config, client, deps.modules);
  const reader = listReader(relatedListApiName);
  const result = await (onePage
    ? reader.page(client, query, extra.signal).then((page) => ({ ...page, resume: null, per_page: args.per_page, pages: undefined }))
    : reader.walk(client, query, { maxRecords, signal: extra.signal, onProgress })
  ).catch(async (error: unknown) => {
    // INVALID_DATA for a list the metadata knows (or an activity view): the record id is the suspect.
    const listKnown = grouped || hasOwnModule !== undefined || emails;
    if (error instanceof ZohoError && error.code === "INVALID_DATA" && error.details.param_name === undefined && listKnown) {
      throw (await recordNotInModule(client, args.module_api_name, args.record_id, extra.signal)) ?? error;
    }
    throw error;
  });

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

  // Text and links in one pass, within the result budget.
  const head = headline(args, relatedListApiName, result.records.length, result.more_records, fields, grouped);
  // Get Record links, links under the parent (Attachments, Emails), or none (Stage_History...).
  const links = linkPlan(relatedListApiName, hasOwnModule, grouped);
  // Records with a Get Record link have a page in the CRM: its address once, as a template.
  const template = links.kind === "record" && result.records.length ? await webTemplate(web, grouped ? undefined : listModule) : undefined;
  const budget = new TextBudget(config.resultMaxChars, head.length + (template?.length ?? 0) + 600);
  const lines = template ? [head, template] : [head];
  const content: CallToolResult["content"] = [{ type: "text", text: "" }];
  for (const record of result.records) {
    const module = moduleOf(record, listModule);
    const line = grouped ? recordLine(record, fields, module) : recordRow(record, fields);
    const link = linkFor(record, links, args.module_api_name, args.record_id, listModule);
    if (!budget.take(line, link)) break;
    lines.push(line);
    if (link) content.push(link);
  }
  const shown = lines.length - (template ? 2 : 1);
  if (shown < result.records.length) {
    // Where the first row left out sits in the list: a walk starts at record 1, page k of p at (k - 1) × p.
    const start = onePage ? (args.page !== undefined ? (args.page - 1) * (perPageSent ?? MAX_PER_PAGE) : undefined) : 0;
    // Emails are paged by index only (no page, per_page): a discrete limit of 0 names only an index.
    const next = start === undefined ? undefined : emails ? continueAt(start + shown, shown, result.pages, 0, null) : continueAt(start + shown, shown, result.pages);
    lines.push(leftOut(shown, result.records.length, config.resultMaxChars, next, emails));
  }
  // Names the caller gave that the module lacks (Zoho drops them silently): said, with the closest real ones.
  if (fields_source === "given" && !emails) {
    const modules = grouped ? ["Calls", "Tasks", "Events"] : hasOwnModule === false ? [] : [listModule];
    const note = await unknownFieldsNote(deps, modules, fields, result.records);
    if (note) lines.push(note);
  }
  lines.push(footer({ args, result, onePage, maxRecords, requested, cap: config.maxRecords, emails }));
  if (links.kind === "none" && result.records.length) lines.push(links.why);
  content[0] = { type: "text", text: lines.join("\n") };
  return { content, structuredContent: structured };
}

/**
 * "Open in Zoho: https://crm.zoho.com/crm/{org}/tab/Notes/{id}". Rows of the activity views name
 * their module ([Calls], [Tasks], [Events], whose web names are their API names): `{module}` there.
 */
async function webTemplate(web: WebAddresses, module: string | undefined): Promise<string | undefined> {
  const base = await web.base(module ?? "{module}");
  return base && `${openInZoho(`${base}/{id}`)}${module ? "" : ", {module} as the row names it"}`;
}

/** The rows past the result budget: how many, where they are, and the call that prints them. */
function leftOut(shown: number, total: number, limit: number, next: string | undefined, emails = false): string {
  const where = `Rows ${shown + 1}-${total} are not printed (ZOHO_RESULT_MAX_CHARS, ${limit} characters) but are in structuredContent.records.`;
  return next
    ? `${where} To print them, call again with ${next}${emails ? "" : " and the same fields, sort and filters"}.`
    : `${where} A page_token names a whole page (same per_page only), so raising ZOHO_RESULT_MAX_CHARS is the way to print them.`;
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
  /** The Emails list: Zoho's Emails API takes no per_page, sort or filters, so the advice names none. */
  emails?: boolean;
}): string {
  const { args, result } = o;
  const same = (perPage: string) => (o.emails ? "" : ` and the same fields, ${perPage}sort and filters`);
  if (result.not_modified) return `Nothing changed since ${args.if_modified_since} (HTTP 304).`;
  const notes: string[] = [];
  if (!o.onePage && o.args.max_records !== undefined && o.requested > o.cap) notes.push(`max_records was lowered to ZOHO_MAX_RECORDS (${o.cap}).`);
  // Zoho's page tokens expire (info.page_token_expiry): say when, where a token is handed on.
  const expiry = result.page_token_expiry ? ` (valid until ${result.page_token_expiry})` : "";
  const token = result.next_page_token ? ` page_token="${result.next_page_token}"${expiry}` : "";
  if (!result.more_records) {
    notes.push(result.records.length === 0 ? "No related records." : "That is all of them.");
  } else if (o.onePage) {
    notes.push(token ? `More records: call again with${token}${o.emails ? "" : " (same fields, per_page, sort and filters, no page)"}.` : "More records exist.");
  } else {
    const ways: string[] = [];
    if (o.maxRecords < o.cap) ways.push(`raise max_records (up to ${o.cap})`);
    const resume = result.resume;
    if (token) ways.push(`continue with${token}${same(`per_page (${result.per_page}), `)}`);
    else if (resume) {
      ways.push(`continue with ${"page_token" in resume ? `page_token="${resume.page_token}"${expiry}` : `page=${resume.page}`}${same(`per_page (${result.per_page}), `)}, skipping its first ${resume.skip} records (the last ones of this answer)`);
    } else if (!o.emails) ways.push("narrow the request with ids or if_modified_since"); // the Emails API takes neither
    notes.push(`Stopped at max_records (${o.maxRecords}); more records exist${ways.length ? `: ${ways.join(" or ")}` : ""}.`);
  }
  return notes.join(" ");
}
