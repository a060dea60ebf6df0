// Property-based tests of every tool's input, through the real MCP server and the demo CRM: any
// input, however hostile, is either refused before a single HTTP request (with a message naming a
// field) or served correctly, and no request ever leaves the documented URL shapes.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { TOOLS } from "../src/tools/index.js";
import { startHarness, type Harness } from "./helpers.js";

const RUNS = 2000;

let h: Harness;
beforeAll(async () => {
  // A small ZOHO_MAX_RECORDS keeps the occasional walk of a 10,500-note list short.
  h = await startHarness({ env: { ZOHO_MAX_RECORDS: "400" } });
});
afterAll(async () => {
  h.expectNoLeaks();
  await h.close();
});

/** Strings meant to steer a URL path, break a parser or exhaust memory, beside plausible names. */
const hostileString = fc.oneof(
  fc.constantFrom(
    "..", "../Leads", "Leads/..", "Leads/4876876000000376008/Notes", "%2F", "Leads%2F..%2FNotes", "..%2f..%2fsettings",
    "Notes?fields=Email", "Notes#x", "Leads\u0000", "Léads", "𝓛eads", "Leads\u202e", "Notes\r\nX-Injected: 1",
    " Leads", "Leads ", "", " ", "\\", "%", "%00", "Leads;", "Leads.json", "0", "-1", "1e3", "0x10", "NaN",
    "4876876000000376008/Notes", "4876876000000376008%2F..", "９９", "١٢٣", "a".repeat(101), "9".repeat(31), "x".repeat(100_000),
  ),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/),
  fc.stringMatching(/^[0-9]{1,25}$/),
);

const wrongType = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_SAFE_INTEGER, [], {}, ["Leads"], { $ne: 1 }),
  fc.integer(),
  fc.double(),
  fc.array(fc.string(), { maxLength: 3 }),
);

const number = fc.oneof(
  fc.integer({ min: 1, max: 12 }),
  fc.integer({ min: 190, max: 210 }),
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.double(),
  fc.constantFrom(0, -1, 2001, 10_000, 1e12, 2 ** 53, "5", "1e2"),
);

const moduleName = fc.oneof(fc.constantFrom("Leads", "Accounts", "Contacts", "Deals", "Campaigns", "Documents", "leads"), hostileString, wrongType);
const recordId = fc.oneof(fc.constantFrom(DEMO.leadId, DEMO.accountId, DEMO.bulkAccountId, DEMO.campaignId, DEMO.dealId), hostileString, wrongType);
const listName = fc.oneof(fc.constantFrom("Notes", "Contacts", "Deals", "Activities_Chronological_View", "Attachments", "Cases", "Social"), hostileString, wrongType);
const fieldName = fc.oneof(fc.constantFrom("Note_Title", "Full_Name", "Email", "Owner", "$editable", "id"), hostileString);
const input = fc.record(
  {
    module_api_name: moduleName,
    record_id: recordId,
    related_list_api_name: listName,
    fields: fc.oneof(fc.array(fieldName, { maxLength: 60 }), wrongType),
    page: number,
    per_page: number,
    page_token: fc.oneof(hostileString, wrongType),
    ids: fc.oneof(fc.array(fc.oneof(fc.constantFrom(...DEMO.leadNoteIds), hostileString), { maxLength: 5 }), wrongType),
    sort_order: fc.oneof(fc.constantFrom("asc", "desc", "ASC", "random"), wrongType),
    sort_by: fc.oneof(fc.constantFrom("id", "Created_Time", "Modified_Time", "Email"), wrongType),
    converted: fc.oneof(fc.constantFrom("true", "false", "both", true), wrongType),
    if_modified_since: fc.oneof(fc.constantFrom("2026-01-01T00:00:00+05:30", "2026-03-14T10:22:31Z", "yesterday", "2026-13-45T99:99:99Z"), hostileString),
    max_records: number,
    extra_key: fc.anything(),
  },
  { requiredKeys: [] },
);

/** A well-formed call with exactly one field replaced by anything at all: a refusal must name that field. */
const VALID = { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 5, max_records: 10 };
const oneBadField = fc
  .constantFrom(...["module_api_name", "record_id", "related_list_api_name", "fields", "page", "per_page", "page_token", "ids", "sort_order", "sort_by", "converted", "if_modified_since", "max_records"])
  .chain((key) => fc.oneof(hostileString, wrongType, number).map((value) => ({ args: { ...VALID, [key]: value } as Record<string, unknown>, key })));

/** The only requests the server may ever send: the documented URL shapes, with checked segments. */
// (Get Record, `{module}/{id}`, checks a record id that a related list answered INVALID_DATA for;
// Get Organization, `org`, gives the web addresses.)
const SAFE_PATH = /^\/crm\/v7\/(org|settings\/(related_lists|fields|modules(\/[A-Za-z][A-Za-z0-9_]*)?)|[A-Za-z][A-Za-z0-9_]*\/[0-9]{1,30}(\/[A-Za-z][A-Za-z0-9_]*)?)$/;
/** Zoho's own answers to a well-formed request for something that does not exist or is not allowed. */
const ZOHO_ANSWERS = /^Zoho error (INVALID_MODULE|NOT_SUPPORTED|INVALID_DATA|OAUTH_SCOPE_MISMATCH|NO_PERMISSION|AUTHORIZATION_FAILED|LIMIT_EXCEEDED|DISCRETE_PAGINATION_LIMIT_EXCEEDED|TOKEN_BOUND_DATA_MISMATCH|EXPIRED_VALUE) /;
/** A related list name the module's metadata does not know: refused after the metadata request alone. */
const NOT_A_RELATED_LIST = /^Invalid input: (related_list_api_name|related_lists): .* (is not a related list|are not related lists) of /;
/** A record named by id alone, or a module the org does not have (record-ref.ts): refused after the Modules API at most. */
const NOT_A_RECORD_REFERENCE = /^Invalid input: module_api_name: (required with a numeric record_id|.* is not a module of this CRM)/;
/** The tools this property speaks for: the related-record input. search_records and get_record have theirs in find.test.ts. */
const RELATED_TOOLS = TOOLS.filter((t) => !["search_records", "get_record"].includes(t.name));

describe("every tool's input schema, through the MCP server", () => {
  it(`${RUNS} random and hostile inputs: refused before any request, or served correctly`, async () => {
    const tally = { refused: 0, served: 0, zohoRefused: 0, requests: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...RELATED_TOOLS), fc.oneof(input.map((args) => ({ args: args as Record<string, unknown>, key: undefined as string | undefined })), oneBadField), async (tool, { args, key }) => {
        const before = { crm: h.crm.stats.crmRequests, token: h.crm.stats.tokenRequests, recorded: h.crm.stats.requests.length };
        const result = await h.call(tool.name, args);
        const text = h.text(result);
        const valid = tool.inputSchema.safeParse(args).success;
        if (!valid) {
          tally.refused++;
          expect(result.isError).toBe(true);
          // The SDK's validation text ends with the field it refused.
          expect(text).toMatch(/Input validation error: [\s\S]*(module_api_name|record_id|related_list_api_name|fields|page|per_page|page_token|ids|sort_order|sort_by|converted|if_modified_since|max_records)/);
          if (key) expect(text).toContain(key);
          expect(h.crm.stats.crmRequests).toBe(before.crm);
          expect(h.crm.stats.tokenRequests).toBe(before.token);
          return;
        }
        const sent = h.crm.stats.requests.slice(before.recorded);
        tally.requests += sent.length;
        for (const r of sent) expect(r.path).toMatch(SAFE_PATH);
        if (result.isError) {
          tally.zohoRefused++;
          expect(text).toMatch(new RegExp(`${ZOHO_ANSWERS.source}|${NOT_A_RELATED_LIST.source}|${NOT_A_RECORD_REFERENCE.source}`));
          if (NOT_A_RELATED_LIST.test(text) || NOT_A_RECORD_REFERENCE.test(text)) for (const r of sent) expect(r.path).toMatch(/^\/crm\/v7\/settings\//);
        } else {
          tally.served++;
          const sc = result.structuredContent as { count?: number; records?: unknown[]; related_lists?: unknown[] };
          if (tool.name === "list_related_lists") expect(Array.isArray(sc.related_lists)).toBe(true);
          else expect(sc.count).toBe(sc.records?.length);
        }
      }),
      { numRuns: RUNS },
    );
    console.info(`property: ${RUNS} inputs across ${RELATED_TOOLS.length} tools: ${tally.refused} refused before any request, ${tally.served} served, ${tally.zohoRefused} answered with Zoho's own error (${tally.requests} requests, all to documented paths)`);
    // Still serving after all of it.
    const ok = await h.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" });
    expect(ok.structuredContent?.count).toBe(7);
  }, 60_000);
});
