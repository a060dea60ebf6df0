import type { CallToolResult, ResourceLink } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { TextBudget } from "../format/budget.js";
import { linkFor, linkPlan, type LinkPlan } from "../format/links.js";
import { openInZoho, webAddresses } from "../format/web.js";
import { columnsOf, formatValue, moduleOf, recordLine, recordRow } from "../format/records.js";
import { redact } from "../log.js";
import { EMAILS_PER_CALL, isEmailsList, listReader } from "../zoho/emails.js";
import { ZohoError } from "../zoho/errors.js";
import { recordNotInModule } from "../zoho/record-check.js";
import type { RelatedListMeta } from "../zoho/metadata.js";
import { MAX_PER_PAGE, type ZohoRecord } from "../zoho/related-records.js";
import { isActivityView, notRelatedLists, planList, type FieldsSource } from "./default-fields.js";
import { LIST_LABELS } from "./related.js";
import { resolveRecord } from "./record-ref.js";
import { OPEN, listName, moduleOfRecord, nullableString, recordReference, recordsOut } from "./schemas.js";
import { defineTool, type ToolDeps, type ToolExtra } from "./types.js";

/** Codes that mean "this user may not read this list": one line in the overview, not a failed call. */
const NOT_READABLE = new Set(["NO_PERMISSION", "OAUTH_SCOPE_MISMATCH", "AUTHORIZATION_FAILED", "INVALID_DATA"]);

type Status = "ok" | "empty" | "not_readable" | "failed" | "user_hidden" | "scheduled_for_deletion" | "over_limit";

interface ListOverview {
  api_name: string;
  display_label: string;
  module: string | null;
  status: Status;
  count: number;
  more_records: boolean;
  records: ZohoRecord[];
  fields?: string[];
  fields_source?: FieldsSource;
  /** "CODE: message" of a list that could not be read. */
  error?: string;
}

/** What render needs beside the structured result: how its records are linked. */
type Read = [ListOverview, ZohoError?, LinkPlan?];

const input = z.object({
  module_api_name: moduleOfRecord.optional(),
  record_id: recordReference(),
  related_lists: z.array(listName).min(1).max(50).optional().describe("Only these lists (default: all)"),
  per_list: z.number().int().min(1).max(20).optional().describe("Rows per list (default 5)"),
});

export const getRelatedOverview = defineTool({
  name: "get_related_overview",
  title: "Everything related to a record",
  description: "Everything related to a Zoho CRM record in one call: each related list's count and first records.",
  inputSchema: input,
  budgeted: true,
  outputSchema: {
    module_api_name: z.string(),
    record_id: z.string(),
    related_lists: z.array(
      z.object({
        api_name: z.string(),
        display_label: z.string(),
        module: nullableString(),
        status: z.enum(["ok", "empty", "not_readable", "failed", "user_hidden", "scheduled_for_deletion", "over_limit"]),
        count: z.number(),
        more_records: z.boolean(),
        records: recordsOut,
        fields: z.array(z.string()).optional(),
        fields_source: z.string().optional(),
        error: z.string().optional(),
      }).meta(OPEN),
    ),
  },
  handler: async (input, extra, deps) => {
    const args = { ...input, ...(await resolveRecord(input, deps)) };
    const perList = args.per_list ?? 5;
    const lists = await listsToRead(args.module_api_name, args.related_lists, deps);
    // The record's web address (GET /org and the modules' web names, cached), read beside the lists;
    // without the org the line is left out, and the call does not fail.
    const web = webAddresses(deps.config, deps.client, deps.modules);
    // ZOHO_MAX_RECORDS bounds everything one call fetches: the lists read share it.
    const asked = lists.filter((l) => "meta" in l || l.status === "visible");
    const share = Math.min(MAX_PER_PAGE, Math.floor(deps.config.maxRecords / Math.max(1, asked.length)));
    const read = await Promise.all(
      lists.map((list) => {
        // Emails come ten at a time whatever is asked: below that share they would overrun the cap.
        const overBudget = asked.includes(list) && ((isEmailsList(list.api_name) && share < EMAILS_PER_CALL) || (share < 1 && asked.indexOf(list) >= deps.config.maxRecords));
        return overBudget ? skipped(list, deps.config.maxRecords) : readList(args.module_api_name, args.record_id, list, perList, Math.max(1, share), extra, deps);
      }),
    );
    // Nothing read and some list said INVALID_DATA: is the record in this module at all? Zoho's
    // INVALID_DATA names no cause, and "0 of 12 lists read" would hide a wrong module.
    if (read.every(([o]) => o.status !== "ok" && o.status !== "empty") && read.some(([, error]) => error?.code === "INVALID_DATA")) {
      const missing = await recordNotInModule(deps.client, args.module_api_name, args.record_id, extra.signal);
      if (missing) throw missing;
    }
    failWhenNothingAnswered(read);
    const base = await web.base(args.module_api_name);
    return render(args.module_api_name, args.record_id, perList, read, deps.config.resultMaxChars, base && `${base}/${args.record_id}`);
  },
});

/** The lists to read: the metadata's (cached), narrowed to the caller's subset when given. */
async function listsToRead(module: string, subset: string[] | undefined, deps: ToolDeps): Promise<Array<RelatedListMeta | { api_name: string; meta: null }>> {
  let all: RelatedListMeta[];
  try {
    all = await deps.catalog.lists(module);
  } catch (error) {
    // With a named subset the lists can be read blind (no scope for the metadata API); without, there is nothing to read.
    if (!subset || !(error instanceof ZohoError) || !NOT_READABLE.has(error.code)) throw error;
    deps.logger.log("warning", `related list metadata for ${module} unavailable (${(error as Error).message}); reading the named lists as given`);
    return [...new Set(subset)].map((api_name) => ({ api_name, meta: null }));
  }
  if (!subset) return all;
  const unknown = subset.filter((name) => !all.some((l) => l.api_name === name));
  if (unknown.length) throw notRelatedLists("related_lists", unknown, module, all);
  return all.filter((l) => subset.includes(l.api_name));
}

/** One related list: one request at most (none for hidden lists); a Zoho error is returned, not thrown. */
/** A list left unread because the call's ZOHO_MAX_RECORDS share would not cover it. */
function skipped(list: RelatedListMeta | { api_name: string; meta: null }, cap: number): Read {
  const meta = "meta" in list ? null : list;
  return [{ api_name: list.api_name, display_label: meta?.display_label ?? list.api_name, module: meta?.module ?? null, status: "over_limit", count: 0, more_records: false, records: [], error: `ZOHO_MAX_RECORDS (${cap}) is spent by the other lists` }];
}

async function readList(
  parent: string,
  recordId: string,
  list: RelatedListMeta | { api_name: string; meta: null },
  perList: number,
  pageSize: number,
  extra: ToolExtra,
  deps: ToolDeps,
): Promise<Read> {
  const meta = "meta" in list ? null : list;
  const base = { api_name: list.api_name, display_label: meta?.display_label ?? list.api_name, module: meta?.module ?? null, count: 0, more_records: false, records: [] };
  if (meta && meta.status !== "visible") {
    return [{ ...base, status: meta.status === "scheduled_for_deletion" ? "scheduled_for_deletion" : "user_hidden" }];
  }
  const plan = await planList(deps, parent, list.api_name, undefined, meta);
  const used = { fields: plan.fields, fields_source: plan.fields_source };
  const links = linkPlan(list.api_name, plan.hasOwnModule, plan.grouped);
  try {
    // A full page costs one request, like a page of per_list, and makes the count exact up to 200
    // (or ZOHO_MAX_RECORDS, the most one call may fetch, when that is lower).
    const page = await listReader(list.api_name).page(
      deps.client,
      { module_api_name: parent, record_id: recordId, related_list_api_name: list.api_name, fields: plan.fields, per_page: pageSize },
      extra.signal,
    );
    return [
      {
        ...base,
        ...used,
        status: page.records.length ? "ok" : "empty",
        count: page.records.length,
        more_records: page.more_records,
        records: page.records.slice(0, perList),
      },
      undefined,
      links,
    ];
  } catch (error) {
    if (!(error instanceof ZohoError)) throw error; // cancellation and bugs fail the call
    const status = NOT_READABLE.has(error.code) ? "not_readable" : "failed";
    return [{ ...base, ...used, status, error: redact(`${error.code}: ${error.message}${detailText(error.details)}`) }, error];
  }
}

/**
 * Per-list failures are the point of the overview, but when every list failed the same way the
 * cause is the call itself (a record id that does not exist, a refused token, Zoho down): say that.
 */
function failWhenNothingAnswered(read: Read[]): void {
  const asked = read.filter(([o]) => o.status !== "user_hidden" && o.status !== "scheduled_for_deletion");
  const errors = asked.map(([, error]) => error);
  const first = errors[0];
  if (!first || errors.some((e) => e?.code !== first.code)) return;
  // One list the user may not read is a normal answer; every list INVALID_DATA means the record is not there.
  if (first.code === "INVALID_DATA" ? asked.length > 1 : !NOT_READABLE.has(first.code)) throw first;
}

function detailText(details: Record<string, unknown>): string {
  const text = formatValue(Object.values(details));
  return text ? ` (${text})` : "";
}

/** A row of the overview is a glance: cut to this many characters; the whole row is one call away. */
const ROW_MAX = 68;

/** Zoho's date-times (2026-03-14T10:22:31+05:30) at a glance: the day. */
const DATE_TIME = /\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)/g;

/**
 * A row cut to ROW_MAX. Date-times show their day; an activity row names its first field only
 * (`Subject: Pricing discussion · 2026-03-19 16:00 · Patricia Boyle`): what follows reads without.
 */
function glance(line: string, grouped: boolean): string {
  let short = line.replace(DATE_TIME, "$1");
  if (grouped) short = short.replace(/ · [A-Za-z_]+: /g, " · ");
  if (short.length <= ROW_MAX) return short;
  // Whole cells while they fit; the cell that does not is cut, or left out (with the rest) when only a few of its characters would show.
  const sep = grouped ? " · " : " | ";
  const cells = short.split(sep);
  if (cells[0]!.length >= ROW_MAX) return `${cells[0]!.slice(0, ROW_MAX - 1)}…`;
  let out = cells[0]!;
  for (const cell of cells.slice(1)) {
    if (out.length + sep.length + cell.length <= ROW_MAX) {
      out += sep + cell;
      continue;
    }
    const room = ROW_MAX - out.length - sep.length - 1;
    if (room >= 12) out += `${sep}${cell.slice(0, room)}…`;
    break;
  }
  return out;
}

/** The columns the cut rows still show: naming the others would only cost characters. */
function columnsShown(rows: string[], fields: string[]): string {
  const cells = Math.max(1, ...rows.map((r) => r.split(" | ").length));
  return columnsOf(fields).split(" | ").slice(0, cells).join(" | ");
}

function render(module: string, recordId: string, perList: number, read: Read[], budgetChars: number, webUrl: string | undefined): CallToolResult {
  const overviews = read.map(([o]) => o);
  const readable = overviews.filter((o) => o.status === "ok" || o.status === "empty").length;
  const lines = [`${module} ${recordId}: ${readable} of ${overviews.length} lists read, up to ${perList} ${perList === 1 ? "row" : "rows"} each.`];
  if (webUrl) lines.push(openInZoho(webUrl));
  const links: ResourceLink[] = [];
  // Every list keeps its line (its count is the point); rows fill what is left.
  const budget = new TextBudget(budgetChars, overviews.reduce((n, o) => n + o.api_name.length + 40, 0) + 300 + (webUrl?.length ?? 0));
  let leftOut = 0;
  for (const [o, , plan] of read) {
    const label = LIST_LABELS[o.api_name] ?? o.display_label;
    const name = label === o.api_name ? o.api_name : `${o.api_name} "${label}"`;
    const count = `${o.count}${o.more_records ? "+" : ""}`;
    switch (o.status) {
      case "ok": {
        // Same layout as get_related_records: columns named once for a list of one module,
        // field names per value for the activity views, whose rows mix Calls, Tasks and Events.
        const grouped = isActivityView(o.api_name);
        const fields = o.fields ?? [];
        const rows: string[] = [];
        for (const r of o.records) {
          const recordModule = moduleOf(r, o.module ?? o.api_name);
          const row = glance(grouped ? recordLine(r, fields, recordModule) : recordRow(r, fields), grouped);
          const link = plan && linkFor(r, plan, module, recordId, o.module ?? o.api_name);
          if (!budget.take(row, link)) {
            leftOut++;
            continue;
          }
          rows.push(row);
          if (link) links.push(link);
        }

        const columns = grouped || !rows.length ? "" : ` (${columnsShown(rows, fields)})`;
        // Zoho leaves converted leads out of a Leads list unless asked (converted=both).
        const converted = o.module === "Leads" ? " not converted" : "";
        lines.push(`${name}: ${count}${converted}${o.records.length < o.count || o.more_records ? `, first ${o.records.length}` : ""}${columns}`, ...rows);
        if (plan?.kind === "none") lines.push(plan.why);
        break;
      }
      case "empty":
        lines.push(`${name}: none`);
        break;
      case "not_readable":
      case "failed":
        lines.push(`${name}: ${o.status === "failed" ? "failed" : "not readable"}, ${o.error}`);
        break;
      case "over_limit":
        lines.push(`${name}: skipped, ${o.error}`);
        break;
      default:
        lines.push(`${name}: skipped, ${o.status.replace(/_/g, " ")}`);
    }
  }
  if (leftOut) lines.push(`${leftOut} ${leftOut === 1 ? "row" : "rows"} not printed (ZOHO_RESULT_MAX_CHARS, ${budgetChars} characters); get_related_records reads a list whole.`);
  else lines.push("get_related_records reads a whole list.");
  return {
    content: [{ type: "text", text: lines.join("\n") }, ...links],
    structuredContent: { module_api_name: module, record_id: recordId, related_lists: overviews },
  };
}
