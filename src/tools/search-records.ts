import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { TextBudget } from "../format/budget.js";
import { columnsOf, recordRow, resourceLink } from "../format/records.js";
import { webAddresses } from "../format/web.js";
import { redact } from "../log.js";
import { InputError, ZohoError } from "../zoho/errors.js";
import { resolveModule } from "../zoho/modules.js";
import type { ZohoRecord } from "../zoho/related-records.js";
import { SEARCH_KINDS, SEARCH_LIMIT, SEARCH_PER_PAGE, prepareCriteria, searchModule, searchPage, type SearchKind, type SearchQuery } from "../zoho/search.js";
import { defaultFields, fieldsFromMetadata } from "./default-fields.js";
import { OPEN, fieldList, moduleApiName, recordsOut, wholeNumber } from "./schemas.js";
import { defineTool } from "./types.js";

/**
 * The modules a person means by a name, email or phone when they name none, each with the fields
 * that tell its records apart (name, email, phone, company or account, owner). Accounts and Deals
 * have no email field in Zoho's standard layout, Deals no phone: they are not asked for those.
 */
const PEOPLE_MODULES: Record<string, { fields: string[]; kinds: readonly SearchKind[] }> = {
  Leads: { fields: ["Full_Name", "Email", "Phone", "Company", "Owner"], kinds: SEARCH_KINDS },
  Contacts: { fields: ["Full_Name", "Email", "Phone", "Account_Name", "Owner"], kinds: SEARCH_KINDS },
  Accounts: { fields: ["Account_Name", "Phone", "Website", "Owner"], kinds: ["word", "phone", "criteria"] },
  Deals: { fields: ["Deal_Name", "Stage", "Account_Name", "Owner"], kinds: ["word", "criteria"] },
};

/** Records per module unless max_records says otherwise: enough to pick the right one. */
export const SEARCH_DEFAULT_MAX = 20;

/** Codes that mean "this module cannot be searched by this user or this way": a line, not a failed call. */
const SKIPPED = new Set(["NO_PERMISSION", "OAUTH_SCOPE_MISMATCH", "AUTHORIZATION_FAILED", "INVALID_QUERY", "INVALID_MODULE", "NOT_SUPPORTED"]);

/** Bounded, but the bounds are not published: every tools/list would pay for them (issue 12). */
const value = (max: number, min = 1) => z.string().trim().refine((v) => v.length >= min && v.length <= max, { error: `must be ${min} to ${max} characters` });
const choice = z.enum(["true", "false", "both"]);

const input = z
  .object({
    // Zoho answers INVALID_DATA for a one-letter word.
    word: value(200, 2).optional().describe("e.g. Brian Dylan"),
    email: value(320).optional(),
    phone: value(50).optional(),
    criteria: value(4000).optional().describe("e.g. ((Last_Name:equals:Dylan)and(Email:starts_with:b))"),
    module_api_name: moduleApiName.optional().describe("default: Leads, Contacts, Accounts, Deals"),
    fields: fieldList(true).optional(),
    converted: choice.optional().describe("default both"),
    approved: choice.optional(),
    // Bounds checked, published as bare integers: the limits are said in docs/tools.md and in refusals.
    page: wholeNumber(1, SEARCH_LIMIT / 10).optional(),
    per_page: wholeNumber(1, SEARCH_PER_PAGE).optional(),
    max_records: wholeNumber(1, SEARCH_LIMIT).optional().describe(`Per module (default ${SEARCH_DEFAULT_MAX})`),
  })
  .superRefine((args, ctx) => {
    const given = SEARCH_KINDS.filter((k) => args[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: given.length ? [given[1]!] : [],
        message: `give exactly one of word, email, phone, criteria (${given.length ? `got ${given.join(" and ")}` : "got none"}): Zoho runs one kind of search per request`,
      });
    }
    if (args.page !== undefined && args.page * (args.per_page ?? SEARCH_PER_PAGE) > SEARCH_LIMIT) {
      ctx.addIssue({ code: "custom", path: ["page"], message: `page × per_page must stay within record ${SEARCH_LIMIT}, as far as Zoho's search reaches` });
    }
  });

interface ModuleResult {
  module_api_name: string;
  count: number;
  more_records: boolean;
  /** "CODE: message" of a module that could not be searched. */
  error?: string;
}

export const searchRecords = defineTool({
  name: "search_records",
  title: "Find records",
  description:
    "Find Zoho CRM records by name, email, phone or criteria; with no module_api_name, searches Leads, Contacts, Accounts, Deals at once. Start here without an id.",
  inputSchema: input,
  budgeted: true,
  outputSchema: {
    records: recordsOut,
    count: z.number(),
    more_records: z.boolean(),
    // Per module: module_api_name, count, more_records, error (docs/tools.md); published as plain objects.
    modules: z.array(z.object({ module_api_name: z.string(), count: z.number(), more_records: z.boolean(), error: z.string().optional() }).meta({ ...OPEN, properties: undefined })),
  },
  handler: async (args, extra, deps) => {
    const { config, client } = deps;
    const kind = SEARCH_KINDS.find((k) => args[k] !== undefined)!;
    // Criteria are checked and escaped before any request; the other kinds go as written.
    const searched = kind === "criteria" ? prepareCriteria(args.criteria!) : args[kind]!;
    const onePage = args.page !== undefined || args.per_page !== undefined;
    const named = args.module_api_name ? await resolveModule(args.module_api_name, deps.modules) : undefined;
    const modules = named ? [named] : Object.keys(PEOPLE_MODULES).filter((m) => PEOPLE_MODULES[m]!.kinds.includes(kind));
    // ZOHO_MAX_RECORDS bounds one call: the modules share it.
    const share = Math.max(1, Math.floor(config.maxRecords / modules.length));
    const maxRecords = Math.min(args.max_records ?? SEARCH_DEFAULT_MAX, share);
    if (args.per_page !== undefined && args.per_page > share) throw new InputError(`per_page: ${args.per_page} is above what ZOHO_MAX_RECORDS (${config.maxRecords}) lets one call fetch from each of ${modules.length} module${modules.length === 1 ? "" : "s"} (${share})`);

    // A module outside the four: its name field and the well-known ones, from its field metadata when readable.
    const otherFields = named && !args.fields && !PEOPLE_MODULES[named]
      ? await deps.fieldCatalog.fields(named).then((meta) => fieldsFromMetadata(named, meta), () => defaultFields(named, named))
      : undefined;
    const queryOf = (module: string): SearchQuery => ({
      module_api_name: module,
      kind,
      value: searched,
      fields: args.fields ?? PEOPLE_MODULES[module]?.fields ?? otherFields ?? defaultFields(module, module),
      // Converted leads are people too: a name finds the lead and the contact made from it. Zoho's
      // default is false; only Leads are converted, so the other modules get Zoho's default.
      converted: args.converted ?? (module === "Leads" ? "both" : undefined),
      approved: args.approved,
    });
    // The org's web address is read once (cached) beside the searches, not after them.
    const [web, ...results] = await Promise.all([
      webAddresses(config, client, deps.modules),
      ...modules.map(async (module): Promise<[ModuleResult, ZohoRecord[], ZohoError?]> => {
        try {
          const q = queryOf(module);
          const page = onePage
            ? await searchPage(client, q, args.page ?? 1, args.per_page ?? Math.min(SEARCH_PER_PAGE, share), extra.signal)
            : await searchModule(client, q, maxRecords, Math.max(1, Math.floor(client.concurrency / modules.length)), extra.signal);
          return [{ module_api_name: module, count: page.records.length, more_records: page.more_records }, page.records];
        } catch (error) {
          // With one module, or a failure that is not about this module, the call fails.
          if (named || !(error instanceof ZohoError) || !SKIPPED.has(error.code)) throw error;
          return [{ module_api_name: module, count: 0, more_records: false, error: redact(`${error.code}: ${error.message}`) }, [], error];
        }
      }),
    ]);
    // Every module refused the same way: that is the answer (a bad criteria, a missing scope).
    const errors = results.map(([, , e]) => e);
    if (errors[0] && errors.every((e) => e?.code === errors[0]!.code)) throw errors[0];

    const records: ZohoRecord[] = [];
    const lines: string[] = [];
    const content: CallToolResult["content"] = [{ type: "text", text: "" }];
    const total = results.reduce((n, [r]) => n + r.count, 0);
    const more = results.some(([r]) => r.more_records);
    const head = `Search for ${kind} ${JSON.stringify(kind === "criteria" ? searched : args[kind])} in ${modules.join(", ")}: ${total}${more ? "+" : ""} record${total === 1 && !more ? "" : "s"}.`;
    lines.push(head);
    const budget = new TextBudget(config.resultMaxChars, head.length + 800);
    let leftOut = 0;
    const empty: string[] = [];
    for (const [result, rows] of results) {
      const module = result.module_api_name;
      if (result.error) {
        lines.push(`${module}: not searched, ${result.error}`);
        continue;
      }
      if (!rows.length) {
        empty.push(module);
        continue;
      }
      const fields = queryOf(module).fields!;
      const base = await web.base(module);
      for (const r of rows) records.push({ ...r, $module: module, ...(base ? { $web_url: `${base}/${r.id}` } : {}) });
      lines.push(`${module}: ${result.count}${result.more_records ? "+" : ""} (${columnsOf(fields)})${base ? `; open in Zoho: ${base}/{id}` : ""}`);
      for (const r of rows) {
        const row = recordRow(r, fields) + (r.$converted === true ? " | [converted]" : "");
        const link = resourceLink(r, module);
        if (!budget.take(row, link)) {
          leftOut++;
          continue;
        }
        lines.push(row);
        content.push(link);
      }
    }
    // Zoho answers 204 both for a page past the last match and for no match at all: on a later
    // page an empty module says neither "no match" nor "past the end". Telling them apart would
    // take a page-1 request per module; page 1 is the caller's to ask for.
    const later = (args.page ?? 1) > 1;
    if (total === 0 && later) lines.push(`Nothing on page ${args.page} (per_page ${args.per_page ?? Math.min(SEARCH_PER_PAGE, share)}): Zoho answers a page past the last match as it answers no match at all, so page 1 shows whether anything matches.`);
    else if (empty.length) lines.push(`${empty.join(", ")}: ${later ? `no record on page ${args.page}` : "no match"}.`);
    if (total === 0 && !later) lines.push(`No record matches${named ? "" : " in these modules"}: try another spelling, part of the name, the email or the phone${named ? "" : ", or module_api_name for another module"}.`);
    if (leftOut) lines.push(`${leftOut} rows not printed (ZOHO_RESULT_MAX_CHARS, ${config.resultMaxChars} characters); all are in structuredContent.records.`);
    if (more && !onePage) lines.push(`More records match: raise max_records (up to ${Math.min(share, SEARCH_LIMIT)} per module) or narrow the search.`);
    if (web.missing && total) lines.push(web.missing);
    if (total) lines.push("Next: get_related_overview with a row's module and id shows everything related to it; get_record reads one in full.");
    content[0] = { type: "text", text: lines.join("\n") };
    return {
      content,
      structuredContent: { records, count: records.length, more_records: more, modules: results.map(([r]) => r) },
    };
  },
});
