// The server as an MCP client sees it: the SDK's own Client over InMemoryTransport, our server, and
// the demo CRM over real HTTP on 127.0.0.1. Every assertion about "what reached Zoho" reads the
// demo CRM's request log, never a mock.

import type { CallToolResult, ResourceLink } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { RecordedRequest } from "../src/demo/crm.js";
import { DEMO } from "../src/demo/seed.js";
import { relatedOutputShape } from "../src/tools/schemas.js";
import { ZohoError } from "../src/zoho/errors.js";
import { CANARY, startHarness, type Harness } from "./helpers.js";

// Generous ceilings: the build machine is shared, and no assertion here is about speed.
vi.setConfig({ testTimeout: 15_000, hookTimeout: 15_000 });

// The test checks every record's id, which the server's own output check leaves to the data.
const RelatedOutput = z.object({ ...relatedOutputShape, records: z.array(z.looseObject({ id: z.string() })) }).strict();

type Structured = z.output<typeof RelatedOutput>;

/** Everything that left the server during this file, checked for secrets at the end. */
const seen: string[] = [];
/** Every access token any harness held, so "no secret" covers the issued ones too. */
const issuedTokens = new Set<string>();

function trackToken(h: Harness): void {
  const current = (h.deps.client.tokens as unknown as { current?: { value: string } }).current;
  if (current) issuedTokens.add(current.value);
}

async function call(h: Harness, name: string, args: Record<string, unknown>, options?: Parameters<Harness["call"]>[2]): Promise<CallToolResult> {
  const result = await h.call(name, args, options);
  seen.push(JSON.stringify(result));
  trackToken(h);
  return result;
}

/** Closes a harness after keeping its log notifications for the secrets check. */
async function done(h: Harness): Promise<void> {
  for (const log of h.logs) seen.push(JSON.stringify(log));
  await h.close();
}

function structured(result: CallToolResult): Structured {
  expect(result.isError, text(result)).toBeFalsy();
  return RelatedOutput.parse(result.structuredContent);
}

function text(result: CallToolResult): string {
  return result.content.filter((c) => c.type === "text").map((c) => (c as { text: string }).text).join("\n");
}

function links(result: CallToolResult): ResourceLink[] {
  return result.content.filter((c): c is ResourceLink => c.type === "resource_link");
}

/** The Get Related Records requests the CRM saw (metadata and Get Record left out). */
function relatedRequests(h: Harness, list?: string): RecordedRequest[] {
  return h.crm.stats.requests.filter((r) => r.path.split("/").length === 6 && !r.path.startsWith("/crm/v7/settings/") && (!list || r.path.endsWith(`/${list}`)));
}

/** Bounded wait for a condition on the CRM's state (no timing assertion: only a ceiling). */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(() => {
    if (!condition()) throw new Error(`still waiting for ${what}`);
  }, { timeout: timeoutMs, interval: 5 });
}

const lead = { module_api_name: "Leads", record_id: DEMO.leadId };
const massLead = { module_api_name: "Leads", record_id: DEMO.massImportLeadId };

function expectZohoError(result: CallToolResult, code: string, zohoMessage: string, resolution: RegExp): string {
  expect(result.isError).toBe(true);
  const t = text(result);
  expect(t).toContain(`Zoho error ${code}`);
  expect(t).toContain(zohoMessage);
  expect(t).toMatch(/What to do: /);
  expect(t).toMatch(resolution);
  return t;
}

// ------------------------------------------------------------------------------------------------

describe("against the demo CRM (refresh-token flow)", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_RECORDS: "10000", ZOHO_CONCURRENCY: "4" } });
  });
  afterAll(async () => {
    await done(h);
  });
  afterEach(() => {
    Object.assign(h.crm.faults, { latencyMs: 0, status429: 0, status5xx: 0, hang: 0, reset: 0, malformed: 0, concurrencyLimit: undefined, retryAfterSeconds: undefined, status5xxCode: undefined });
  });

  it("lists the tools, read-only, each with an output schema", async () => {
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["get_related_records", "get_open_activities", "get_closed_activities", "list_related_lists"]));
    for (const tool of tools) {
      expect(tool.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, openWorldHint: true, idempotentHint: true });
      expect(tool.title, tool.name).toMatch(/\w/);
      // get_record answers a record, an email or a file: content, with no one schema for them.
      if (tool.name !== "get_record") expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.description?.length).toBeGreaterThan(20);
    }
  });

  it("adopts the api_domain the token endpoint names (ZOHO_API_DOMAIN not set)", async () => {
    // The config's default is www.zohoapis.com; only the token's api_domain leads to the demo CRM.
    expect(h.config.apiDomainPinned).toBe(false);
    const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] });
    structured(result);
    expect(h.deps.client.tokens.apiDomain).toBe(h.crm.url);
  });

  it("get_related_records: 7 of 7 notes of the demo lead, summary + 7 links to Notes + structuredContent", async () => {
    h.crm.resetStats();
    const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes" });
    const s = structured(result);
    expect(s).toMatchObject({ module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes", count: 7, more_records: false, next_page_token: null, not_modified: false });
    expect(s.records.map((r) => r.id).sort()).toEqual([...DEMO.leadNoteIds].sort());
    // Default fields for Notes (from the metadata API).
    expect(s.fields).toEqual(expect.arrayContaining(["Note_Title", "Note_Content"]));

    const t = text(result);
    const headline = t.split("\n")[0]!;
    expect(headline).toMatch(new RegExp(`^Notes of Leads ${DEMO.leadId}: 7 records\\.`));
    for (const field of s.fields) expect(headline).toContain(field);
    // One line per record, starting with its id.
    for (const id of DEMO.leadNoteIds) expect(t.split("\n").some((line) => line.startsWith(id))).toBe(true);
    expect(t).toContain("Patricia Boyle"); // a lookup (Owner) by its name, not its JSON
    expect(t).not.toMatch(/null|undefined|\{"/);
    expect(t).toMatch(/That is all of them\.$/);

    const l = links(result);
    expect(l).toHaveLength(7);
    expect(l.map((x) => x.uri).sort()).toEqual(DEMO.leadNoteIds.map((id) => `zohocrm://records/Notes/${id}`).sort());
    for (const link of l) expect(link.name).not.toMatch(/^Notes \d+$/); // named by Note_Title
    // One Get Related Records request, one metadata request.
    expect(relatedRequests(h)).toHaveLength(1);
  });

  it("get_open_activities / get_closed_activities: rows carry $module and link to their own module", async () => {
    const open = await call(h, "get_open_activities", lead);
    const o = structured(open);
    expect(o).toMatchObject({ related_list_api_name: "Activities_Chronological_View", count: 4, more_records: false });
    const byModule = Object.fromEntries(o.records.map((r) => [r.id, r.$module]));
    expect(byModule).toMatchObject({
      [DEMO.leadOpenCallIds[0]]: "Calls",
      [DEMO.leadOpenCallIds[1]]: "Calls",
      [DEMO.leadOpenTaskId]: "Tasks",
      [DEMO.leadOpenEventId]: "Events",
    });
    expect(links(open).map((l) => l.uri)).toEqual(expect.arrayContaining([
      `zohocrm://records/Calls/${DEMO.leadOpenCallIds[0]}`,
      `zohocrm://records/Tasks/${DEMO.leadOpenTaskId}`,
      `zohocrm://records/Events/${DEMO.leadOpenEventId}`,
    ]));
    expect(text(open).split("\n")[0]).toMatch(/^Open activities of Leads \d+: 4 records\./);
    expect(text(open)).toContain(`${DEMO.leadOpenTaskId} [Tasks]`);

    const closed = await call(h, "get_closed_activities", lead);
    const c = structured(closed);
    expect(c).toMatchObject({ related_list_api_name: "Activities_Chronological_View_History", count: 3 });
    expect(c.records.map((r) => [r.id, r.$module]).sort()).toEqual([
      [DEMO.leadClosedCallId, "Calls"],
      [DEMO.leadClosedTaskId, "Tasks"],
      [DEMO.leadClosedEventId, "Events"],
    ].sort());
    expect(links(closed).map((l) => l.uri)).toContain(`zohocrm://records/Events/${DEMO.leadClosedEventId}`);
  });

  it("list_related_lists: api name, label, target module, type, status", async () => {
    const result = await call(h, "list_related_lists", { module_api_name: "Accounts" });
    expect(result.isError).toBeFalsy();
    const s = result.structuredContent as { module_api_name: string; related_lists: Array<Record<string, unknown>> };
    expect(s.module_api_name).toBe("Accounts");
    expect(s.related_lists).toEqual(expect.arrayContaining([
      expect.objectContaining({ api_name: "Contacts", module: "Contacts", type: "default", status: "visible" }),
      expect.objectContaining({ api_name: "Activities_Chronological_View", module: null, type: "grouped" }),
      expect.objectContaining({ api_name: "Social", status: "user_hidden" }),
    ]));
    expect(text(result)).toMatch(/Social .*hidden: not readable/);
  });

  it("get_related_overview answers for the demo lead (its details are in discovery.test.ts)", async () => {
    const result = await call(h, "get_related_overview", lead);
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ module_api_name: "Leads", record_id: DEMO.leadId });
    expect(text(result)).toContain("Notes");
  });

  it("an account's Contacts link to Contacts, its Deals to Deals", async () => {
    const contacts = structured(await call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Contacts" }));
    expect(contacts.count).toBe(DEMO.accountContactCount);
    const deals = await call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Deals" });
    expect(structured(deals).count).toBe(DEMO.accountDealCount);
    expect(links(deals).every((l) => l.uri.startsWith("zohocrm://records/Deals/"))).toBe(true);
  });

  it("every documented parameter reaches the wire", async () => {
    h.crm.resetStats();
    const since = "2020-01-01T00:00:00+00:00";
    const args = {
      module_api_name: "Campaigns",
      record_id: DEMO.campaignId,
      related_list_api_name: "Leads",
      fields: ["Full_Name", "Company"],
      page: 1,
      per_page: 5,
      sort_order: "asc",
      sort_by: "Created_Time",
      converted: "both",
      if_modified_since: since,
    };
    const firstResult = await call(h, "get_related_records", args);
    const first = structured(firstResult);
    expect(first).toMatchObject({ count: 5, more_records: true });
    expect(first.next_page_token).toBeTypeOf("string");
    // One page only (page given): the result hands back the token and says how to use it.
    expect(text(firstResult)).toContain(`More records: call again with page_token="${first.next_page_token}"`);
    const [req] = relatedRequests(h);
    expect(req?.path).toBe(`/crm/v7/Campaigns/${DEMO.campaignId}/Leads`);
    expect(req?.query).toEqual({ fields: "Full_Name,Company", page: "1", per_page: "5", sort_order: "asc", sort_by: "Created_Time", converted: "both" });
    expect(req?.headers["if-modified-since"]).toBe(since);
    expect(req?.headers.authorization).toBe("Zoho-oauthtoken ***");

    // page_token: the same parameters less page; the CRM serves the rest of the list.
    h.crm.resetStats();
    const { page: _page, ...rest } = args;
    const second = structured(await call(h, "get_related_records", { ...rest, page_token: first.next_page_token }));
    expect(second).toMatchObject({ count: DEMO.campaignLeadCount - 5, more_records: false, next_page_token: null });
    const [tokenReq] = relatedRequests(h);
    expect(tokenReq?.query).toEqual({ fields: "Full_Name,Company", per_page: "5", page_token: first.next_page_token, sort_order: "asc", sort_by: "Created_Time", converted: "both" });
    expect(tokenReq?.query).not.toHaveProperty("page");

    // ids
    h.crm.resetStats();
    const one = first.records[0]!.id;
    const byId = structured(await call(h, "get_related_records", { module_api_name: "Campaigns", record_id: DEMO.campaignId, related_list_api_name: "Leads", ids: [one], converted: "both" }));
    expect(byId.records.map((r) => r.id)).toEqual([one]);
    expect(relatedRequests(h)[0]?.query.ids).toBe(one);
  });

  it("converted: false by default, true, both", async () => {
    const q = { module_api_name: "Campaigns", record_id: DEMO.campaignId, related_list_api_name: "Leads" };
    expect(structured(await call(h, "get_related_records", q)).count).toBe(DEMO.campaignLeadCount - DEMO.campaignConvertedLeadCount);
    expect(structured(await call(h, "get_related_records", { ...q, converted: "true" })).count).toBe(DEMO.campaignConvertedLeadCount);
    expect(structured(await call(h, "get_related_records", { ...q, converted: "both" })).count).toBe(DEMO.campaignLeadCount);
  });

  it("2450 notes: pages 1..10 by number, then page_token alone, all 2450 once", async () => {
    h.crm.resetStats();
    const result = await call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2450 });
    const s = structured(result);
    expect(s.count).toBe(DEMO.massImportNoteCount);
    expect(s.more_records).toBe(false);
    expect(new Set(s.records.map((r) => r.id)).size).toBe(DEMO.massImportNoteCount);
    // The text and its links stop at the result budget (test/budget.test.ts); structuredContent has all.
    expect(links(result).length).toBeLessThan(DEMO.massImportNoteCount);

    const requests = relatedRequests(h, "Notes");
    const byNumber = requests.filter((r) => r.query.page !== undefined);
    const byToken = requests.filter((r) => r.query.page_token !== undefined);
    expect(byNumber.map((r) => Number(r.query.page)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(byToken).toHaveLength(3); // records 2001-2200, 2201-2400, 2401-2450
    for (const r of byToken) expect(r.query).not.toHaveProperty("page");
    expect(requests).toHaveLength(13);
    for (const r of requests) {
      expect(r.query.per_page).toBe("200");
      expect(r.status).toBe(200);
    }
    // Every token request comes after every numbered one (each token is named by the page before).
    const lastNumbered = Math.max(...byNumber.map((r) => r.endedAt));
    for (const r of byToken) expect(r.startedAt).toBeGreaterThanOrEqual(lastNumbered);
  });

  it("a walk asks for 200 per page whatever per_page says: 2,000 records cost 10 requests, not 200", async () => {
    h.crm.resetStats();
    const s = structured(await call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 10, max_records: 2000 }));
    expect(s).toMatchObject({ count: 2000, more_records: true });
    expect(new Set(s.records.map((r) => r.id)).size).toBe(2000);
    const requests = relatedRequests(h, "Notes");
    expect(requests).toHaveLength(10);
    for (const r of requests) expect(r.query.per_page).toBe("200");

    // A short list: one request, however small per_page is.
    h.crm.resetStats();
    const short = structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 2 }));
    expect(short).toMatchObject({ count: 7, more_records: false });
    expect(relatedRequests(h).map((r) => r.query.per_page)).toEqual(["200"]);

    // In one-page mode per_page keeps its meaning.
    h.crm.resetStats();
    const one = structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"], page: 2, per_page: 2 }));
    expect(one).toMatchObject({ count: 2, more_records: true });
    expect(relatedRequests(h).map((r) => [r.query.page, r.query.per_page])).toEqual([["2", "2"]]);
  });

  it("reports progress while walking", async () => {
    const progress: number[] = [];
    const s = structured(await call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 600 }, { onprogress: (p) => void progress.push(p.progress) }));
    expect(s.count).toBe(600);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(600);
  });

  it("stops at max_records and says how to continue", async () => {
    const result = await call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 400 });
    const s = structured(result);
    expect(s).toMatchObject({ count: 400, more_records: true });
    expect(s.next_page_token).toBeTypeOf("string");
    expect(text(result)).toMatch(/Stopped at max_records \(400\); more records exist: raise max_records \(up to 10000\) or continue with page_token="[^"]+"/);
    // The hint works: the token continues where the walk stopped.
    const next = structured(await call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 200, page_token: s.next_page_token }));
    expect(next.count).toBe(200);
    expect(new Set([...s.records, ...next.records].map((r) => r.id)).size).toBe(600);
  });

  it("HTTP 204: an empty related list is zero records, not an error", async () => {
    h.crm.resetStats();
    const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Attachments" });
    const s = structured(result);
    expect(s).toMatchObject({ count: 0, records: [], more_records: false, not_modified: false });
    expect(relatedRequests(h)[0]?.status).toBe(204);
    expect(text(result)).toContain("No related records.");
    expect(links(result)).toHaveLength(0);
  });

  it("HTTP 304: not modified since the given time, not an error", async () => {
    h.crm.resetStats();
    const since = "2030-01-01T00:00:00+00:00";
    const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", if_modified_since: since });
    const s = structured(result);
    expect(s).toMatchObject({ count: 0, not_modified: true, more_records: false });
    expect(relatedRequests(h)[0]?.status).toBe(304);
    expect(text(result)).toContain(`Nothing changed since ${since}`);
  });

  it("reads a resource link through Get Record", async () => {
    const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes" });
    const link = links(result)[0]!;
    h.crm.resetStats();
    const read = await h.client.readResource({ uri: link.uri });
    seen.push(JSON.stringify(read));
    const content = read.contents[0] as { uri: string; text: string; mimeType: string };
    expect(content.uri).toBe(link.uri);
    expect(content.mimeType).toBe("application/json");
    const record = JSON.parse(content.text) as Record<string, unknown>;
    expect(record.id).toBe(link.uri.split("/").at(-1));
    expect(record.Note_Content).toBeTypeOf("string");
    expect(Object.values(record)).not.toContain(null);
    expect(h.crm.stats.requests.map((r) => r.path)).toEqual([`/crm/v7/Notes/${record.id}`]);

    const activity = links(await call(h, "get_open_activities", lead)).find((l) => l.uri.includes("/Events/"))!;
    const event = JSON.parse(((await h.client.readResource({ uri: activity.uri })).contents[0] as { text: string }).text) as Record<string, unknown>;
    expect(event.id).toBe(DEMO.leadOpenEventId);
  });

  it("a resource link to a missing record is an error naming Zoho's code", async () => {
    await expect(h.client.readResource({ uri: "zohocrm://records/Notes/123" })).rejects.toThrow(/INVALID_DATA/);
    h.crm.resetStats();
    await expect(h.client.readResource({ uri: "zohocrm://records/Notes/12a" })).rejects.toThrow(/record_id/);
    expect(h.crm.stats.crmRequests).toBe(0);
  });

  it("invalid input to resources/read is -32602 (invalid params) with advice about reading one record", async () => {
    const refused = async (uri: string) => {
      const error = await h.client.readResource({ uri }).then(() => undefined, (e: unknown) => e as { code: number; message: string });
      expect(error, uri).toBeDefined();
      return error!;
    };
    h.crm.resetStats();
    const advice = "zohocrm://records/{module_api_name}/{record_id} reads one record, e.g. zohocrm://records/Leads/4876876000000376008 (the links tool results carry); an attachment or email under its parent: zohocrm://records/{module_api_name}/{record_id}/Attachments/{attachment_id} or .../Emails/{message_id}; a related list is read with get_related_records, not as a resource";
    const badId = await refused("zohocrm://records/Notes/12a");
    expect(badId.code).toBe(-32602);
    expect(badId.message).toBe(`MCP error -32602: zohocrm://records/Notes/12a: record_id must be a Zoho record id: digits only. ${advice}`);
    // A related list is not a resource: no template matches it.
    const list = await refused(`zohocrm://records/Leads/${DEMO.leadId}/Notes`);
    expect(list.code).toBe(-32602);
    expect(list.message).toBe(`MCP error -32602: zohocrm://records/Leads/${DEMO.leadId}/Notes: no such resource. ${advice}`);
    expect(h.crm.stats.crmRequests).toBe(0);
  });

  describe("Zoho's documented errors become isError results with code, message and resolution", () => {
    // A module the org's Modules API does not list is refused before any data request (find.test.ts);
    // without that API's scope the name goes to Zoho as written, and Zoho's own answer speaks.
    it("INVALID_MODULE and NOT_SUPPORTED", async () => {
      const bare = await startHarness({ crm: { withoutScopes: ["ZohoCRM.settings.modules.READ"] } });
      try {
        expectZohoError(await call(bare, "get_related_records", { module_api_name: "Widgets", record_id: DEMO.leadId, related_list_api_name: "Notes" }), "INVALID_MODULE", "the module name given seems to be invalid", /valid module API name/);
        expectZohoError(await call(bare, "get_related_records", { module_api_name: "Documents", record_id: DEMO.leadId, related_list_api_name: "Notes" }), "NOT_SUPPORTED", "the given module is not supported in api", /not supported/);
      } finally {
        await bare.close();
      }
    });

    it("an unknown related list is refused from the metadata, naming the field and the lists there are", async () => {
      await call(h, "list_related_lists", { module_api_name: "Leads" }); // metadata cached beforehand
      h.crm.resetStats();
      const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Widgets", fields: ["Name"] });
      expect(result.isError).toBe(true);
      expect(h.text(result)).toMatch(/^Invalid input: related_list_api_name: Widgets is not a related list of Leads\. Its lists: Notes, Attachments, /);
      expect(h.crm.stats.requests).toHaveLength(0);
      // Without the metadata scope the server cannot know: Zoho's own answer, INVALID_DATA, is passed on.
      const blind = await h.deps.client.get(`Leads/${DEMO.leadId}/Widgets`, { searchParams: { fields: "Name" } }).catch((e: unknown) => e);
      expect(blind).toMatchObject({ code: "INVALID_DATA" });
    });

    it("a hidden related list is refused from the metadata, with the reason; Zoho's own answer is INVALID_DATA", async () => {
      const hidden = await call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Social", fields: ["Name"] });
      expect(h.text(hidden)).toBe("Invalid input: related_list_api_name: Social is hidden in Accounts' layout (user_hidden), so Zoho does not serve it; a CRM administrator can show it again");
      const blind = await h.deps.client.get(`Accounts/${DEMO.accountId}/Social`, { searchParams: { fields: "Name" } }).catch((e: unknown) => e);
      expect(blind).toMatchObject({ code: "INVALID_DATA" });
    });

    it("INVALID_DATA: unknown record; a garbled page_token gets its own advice", async () => {
      const garbled = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", page_token: "garbage" });
      expect(h.text(garbled)).toMatch(/^Zoho error INVALID_DATA \(HTTP 400\)[\s\S]*What to do: The page_token is not valid here/);
      // The list is known (metadata), so Get Record is asked about the record: not there, said as such.
      expectZohoError(await call(h, "get_related_records", { module_api_name: "Leads", record_id: "123456789", related_list_api_name: "Notes" }), "INVALID_DATA", "record 123456789 is not in Leads", /another module's record/);
    });

    it("NO_PERMISSION and AUTHORIZATION_FAILED", async () => {
      const account = { module_api_name: "Accounts", record_id: DEMO.accountId };
      expectZohoError(await call(h, "get_related_records", { ...account, related_list_api_name: "Invoices" }), "NO_PERMISSION", "permission denied", /administrator/);
      expectZohoError(await call(h, "get_related_records", { ...account, related_list_api_name: "Quotes" }), "AUTHORIZATION_FAILED", "User does not have sufficient privilege", /privilege/);
    });

    it("OAUTH_SCOPE_MISMATCH: reported with the scope, not retried, no refresh", async () => {
      await call(h, "list_related_lists", { module_api_name: "Accounts" }); // metadata cached beforehand
      h.crm.resetStats();
      const t = expectZohoError(await call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Cases" }), "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL", /grant ZohoCRM\.modules\.READ, or ZohoCRM\.modules\.accounts\.READ and ZohoCRM\.modules\.cases\.READ/);
      expect(t).toContain("ZohoCRM.modules.cases.READ"); // Zoho's details name the scope
      expect(t).toContain("HTTP 401");
      expect(h.crm.stats.tokenRequests).toBe(0);
      expect(relatedRequests(h, "Cases")).toHaveLength(1);
    });

    it("TOKEN_BOUND_DATA_MISMATCH: a page_token reused with other fields", async () => {
      const first = structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"], page: 1, per_page: 3 }));
      expect(first.next_page_token).toBeTypeOf("string");
      const t = expectZohoError(
        await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Content"], per_page: 3, page_token: first.next_page_token }),
        "TOKEN_BOUND_DATA_MISMATCH",
        "the page_token was issued for different request parameters",
        /same fields, per_page/,
      );
      expect(t).not.toContain(first.next_page_token!); // the token is not a secret, but noise
    });

    it("EXPIRED_VALUE: a page_token older than 24 hours", async () => {
      const first = structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"], page: 1, per_page: 3 }));
      vi.useFakeTimers({ toFake: ["Date"] });
      try {
        vi.setSystemTime(Date.now() + 25 * 3_600_000);
        // The access token has expired by then as well: the server refreshes and goes on.
        expectZohoError(
          await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 3, page_token: first.next_page_token }),
          "EXPIRED_VALUE",
          "the given page_token has expired",
          /Start again without page_token/,
        );
      } finally {
        vi.useRealTimers();
      }
    });

    it("TOO_MANY_REQUESTS after ky's retries; one 429 alone is retried away", async () => {
      h.crm.faults.retryAfterSeconds = 0;
      h.crm.faults.status429 = 1;
      h.crm.resetStats();
      expect(structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] })).count).toBe(7);
      expect(relatedRequests(h).map((r) => r.status)).toEqual([429, 200]);

      h.crm.faults.status429 = 3;
      h.crm.resetStats();
      expectZohoError(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] }), "TOO_MANY_REQUESTS", "(after retries)", /ZOHO_CONCURRENCY/);
      expect(relatedRequests(h)).toHaveLength(3);
    });

    it("a 500 INTERNAL_ERROR after retries", async () => {
      h.crm.faults.status5xx = 3;
      expectZohoError(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] }), "INTERNAL_ERROR", "Internal Server Error", /Try again later/);
    });
  });

  describe("input the schemas refuse never reaches the CRM; Zoho's own answer, asked directly", () => {
    const notesPath = `Leads/${DEMO.leadId}/Notes`;

    const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
      ["page with page_token", { ...lead, related_list_api_name: "Notes", page: 1, page_token: "abc" }, /page_token.*page and page_token cannot be used together|page and page_token cannot be used together/s],
      ["per_page 201", { ...lead, related_list_api_name: "Notes", per_page: 201 }, /per_page/],
      ["'/' in a module name", { module_api_name: "Leads/../settings", record_id: DEMO.leadId, related_list_api_name: "Notes" }, /module_api_name/],
      ["'/' in a related list name", { ...lead, related_list_api_name: "Notes/x" }, /related_list_api_name/],
      ["letters in a record id", { module_api_name: "Leads", record_id: "12ab", related_list_api_name: "Notes" }, /record_id/],
      ["unknown sort_by", { ...lead, related_list_api_name: "Notes", sort_by: "Last_Name" }, /sort_by/],
      ["no fields (fields: [])", { ...lead, related_list_api_name: "Notes", fields: [] }, /fields/],
      ["51 fields", { ...lead, related_list_api_name: "Notes", fields: Array.from({ length: 51 }, (_, i) => `Field_${i}`) }, /fields/],
      ["page past record 2000", { ...massLead, related_list_api_name: "Notes", page: 11, per_page: 200 }, /page/],
      ["if_modified_since not ISO 8601", { ...lead, related_list_api_name: "Notes", if_modified_since: "yesterday" }, /if_modified_since/],
      ["letters in ids", { ...lead, related_list_api_name: "Notes", ids: ["12x"] }, /ids/],
    ];

    it.each(refusals)("refuses %s, naming the field, with zero requests", async (_label, args, field) => {
      h.crm.resetStats();
      const result = await call(h, "get_related_records", args);
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(field);
      expect(h.crm.stats.crmRequests).toBe(0);
      expect(h.crm.stats.tokenRequests).toBe(0);
    });

    it("list_related_lists refuses a module name with a '/'", async () => {
      h.crm.resetStats();
      const result = await call(h, "list_related_lists", { module_api_name: "Leads/x" });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/module_api_name/);
      expect(h.crm.stats.crmRequests).toBe(0);
    });

    async function zohoAnswer(path: string, searchParams: Record<string, string | number>): Promise<ZohoError> {
      const error = await h.deps.client.get(path, { searchParams }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ZohoError);
      return error as ZohoError;
    }

    it("REQUIRED_PARAM_MISSING: Get Related Records without fields", async () => {
      const e = await zohoAnswer(notesPath, {});
      expect(e).toMatchObject({ status: 400, code: "REQUIRED_PARAM_MISSING", details: { param_name: "fields" } });
      expect(e.render()).toMatch(/needs fields/);
    });

    it("LIMIT_EXCEEDED: 51 fields", async () => {
      const e = await zohoAnswer(notesPath, { fields: Array.from({ length: 51 }, (_, i) => `Field_${i}`).join(",") });
      expect(e).toMatchObject({ code: "LIMIT_EXCEEDED" });
      expect(e.render()).toMatch(/at most 50 fields/);
    });

    it("AMBIGUITY_DURING_PROCESSING: page with page_token", async () => {
      const first = structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"], page: 1, per_page: 3 }));
      const e = await zohoAnswer(notesPath, { fields: "Note_Title", per_page: 3, page: 2, page_token: first.next_page_token! });
      expect(e).toMatchObject({ code: "AMBIGUITY_DURING_PROCESSING" });
      expect(e.render()).toMatch(/either page or page_token/);
    });

    it("DISCRETE_PAGINATION_LIMIT_EXCEEDED: page past record 2000", async () => {
      const e = await zohoAnswer(`Leads/${DEMO.massImportLeadId}/Notes`, { fields: "Note_Title", page: 11, per_page: 200 });
      expect(e).toMatchObject({ code: "DISCRETE_PAGINATION_LIMIT_EXCEEDED" });
      expect(e.render()).toMatch(/only page_token works/);
    });

    it("INVALID_URL_PATTERN: a path Zoho does not know, and a segment crmPath refuses to build", async () => {
      const e = await zohoAnswer(`${notesPath}/more`, { fields: "Note_Title" });
      expect(e).toMatchObject({ status: 404, code: "INVALID_URL_PATTERN" });
      expect(e.render()).toMatch(/ZOHO_DC/);
      const { crmPath } = await import("../src/zoho/client.js");
      expect(() => crmPath({ apiName: "Leads/../x" })).toThrow(ZohoError);
    });
  });

  it("one refresh for 20 concurrent calls on an expired token", async () => {
    await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] });
    h.crm.expireAllTokens();
    h.crm.resetStats();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 1 + (i % 7), page: 1 }),
      ),
    );
    for (const r of results) expect(r.isError, text(r)).toBeFalsy();
    expect(h.crm.stats.tokenRequests).toBe(1);
    expect(h.crm.stats.tokensIssued).toBe(1);
    expect(h.crm.stats.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    expect(h.crm.stats.requests.filter((r) => r.status === 200)).toHaveLength(20);
  });

  it("never exceeds ZOHO_CONCURRENCY in flight during a 2000-record walk", async () => {
    h.crm.faults.latencyMs = 15;
    h.crm.resetStats();
    const s = structured(await call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2000 }));
    expect(s.count).toBe(2000);
    expect(h.crm.stats.maxInFlight).toBeLessThanOrEqual(h.config.concurrency);
    expect(relatedRequests(h)).toHaveLength(10);

    // The cap is per process, not per call: two walks at once share it.
    h.crm.resetStats();
    const both = await Promise.all([
      call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2000 }),
      call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2000 }),
    ]);
    for (const r of both) expect(structured(r).count).toBe(2000);
    expect(relatedRequests(h)).toHaveLength(20);
    expect(h.crm.stats.maxInFlight).toBeLessThanOrEqual(h.config.concurrency);
  });

  describe("cancellation stops the walk's requests", () => {
    it("during the numbered pages (2450 notes)", async () => {
      await call(h, "list_related_lists", { module_api_name: "Leads" }); // metadata cached
      // Slow enough that nothing comes back on its own while the test looks and cancels.
      h.crm.faults.latencyMs = 500;
      h.crm.resetStats();
      const controller = new AbortController();
      const args = { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2450 };
      const outcome = h.call("get_related_records", args, { signal: controller.signal }).then(() => "resolved", (e: unknown) => (e instanceof Error ? e.message : String(e)));
      // Page 1 alone, then pages 2..10 under the cap: wait until the cap is full.
      await until(() => h.crm.stats.inFlight === h.config.concurrency, "the cap to be full of numbered pages");
      const atAbort = h.crm.stats.crmRequests;
      const inFlight = h.crm.stats.requests.filter((r) => r.endedAt === 0);
      expect(inFlight).toHaveLength(h.config.concurrency);
      controller.abort();
      expect(await outcome).toMatch(/abort/i);
      // The in-flight requests are closed: the CRM sees their sockets go away, unanswered.
      await until(() => h.crm.stats.inFlight === 0, "in-flight requests to close");
      for (const r of inFlight) expect(r.status).toBe(0);
      // A bounded look for stragglers: the queued pages are never sent.
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(h.crm.stats.crmRequests).toBe(atAbort);
      expect(atAbort).toBeLessThan(10);
    });

    it("during the page_token phase (10,500 notes)", async () => {
      h.crm.faults.latencyMs = 0;
      const args = { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 10_000 };
      await call(h, "list_related_lists", { module_api_name: "Accounts" });
      h.crm.resetStats();
      const controller = new AbortController();
      const outcome = h.call("get_related_records", args, { signal: controller.signal }).then(() => "resolved", (e: unknown) => (e instanceof Error ? e.message : String(e)));
      // Once the walk reaches its first page_token request, slow the CRM down and cancel.
      await until(() => h.crm.stats.requests.some((r) => r.query.page_token !== undefined), "the first page_token request");
      h.crm.faults.latencyMs = 2000;
      await until(() => h.crm.stats.inFlight === 1 && h.crm.stats.requests.at(-1)!.endedAt === 0 && h.crm.stats.requests.at(-1)!.query.page_token !== undefined, "a page_token request in flight");
      const atAbort = h.crm.stats.crmRequests;
      controller.abort();
      expect(await outcome).toMatch(/abort/i);
      await until(() => h.crm.stats.inFlight === 0, "in-flight requests to close");
      const last = h.crm.stats.requests.at(-1)!;
      expect(last.status).toBe(0);
      expect(last.query).not.toHaveProperty("page");
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(h.crm.stats.crmRequests).toBe(atAbort);
      expect(h.crm.stats.requests.length).toBeLessThan(50); // far from the 50 pages of a full walk
    });

    it("the server goes on serving after a cancellation", async () => {
      h.crm.faults.latencyMs = 0;
      expect(structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes" })).count).toBe(7);
    });
  });
});

// ------------------------------------------------------------------------------------------------

describe("settings", () => {
  it("max_records is capped by ZOHO_MAX_RECORDS, with a note", async () => {
    const h = await startHarness({ env: { ZOHO_MAX_RECORDS: "500" } });
    try {
      const result = await call(h, "get_related_records", { ...massLead, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 5000 });
      const s = structured(result);
      expect(s.count).toBe(500);
      expect(s.more_records).toBe(true);
      expect(text(result)).toContain("max_records was lowered to ZOHO_MAX_RECORDS (500).");
      // 500 records never cost more than the pages they need.
      expect(relatedRequests(h).length).toBeLessThanOrEqual(3);
    } finally {
      await done(h);
    }
  });

  it("fetches the related list metadata once per module across calls", async () => {
    const h = await startHarness();
    try {
      await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes" });
      await call(h, "get_related_records", { ...lead, related_list_api_name: "Attachments" });
      await call(h, "list_related_lists", { module_api_name: "Leads" });
      await Promise.all([
        call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Contacts" }),
        call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Deals" }),
      ]);
      const metadata = h.crm.stats.requests.filter((r) => r.path === "/crm/v7/settings/related_lists");
      expect(metadata.map((r) => r.query.module).sort()).toEqual(["Accounts", "Leads"]);
      // Field metadata (for default fields), when asked for at all: once per module as well.
      const fieldModules = h.crm.stats.requests.filter((r) => r.path === "/crm/v7/settings/fields").map((r) => r.query.module);
      expect(fieldModules.length).toBe(new Set(fieldModules).size);
      // A second round costs no metadata request at all.
      const before = h.crm.stats.requests.filter((r) => r.path.startsWith("/crm/v7/settings/")).length;
      await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes" });
      await call(h, "get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Contacts" });
      expect(h.crm.stats.requests.filter((r) => r.path.startsWith("/crm/v7/settings/")).length).toBe(before);
    } finally {
      await done(h);
    }
  });

  it("ZOHO_API_DOMAIN pinned wins over the token's api_domain", async () => {
    const { startDemoCrm } = await import("../src/demo/crm.js");
    const other = await startDemoCrm();
    const h = await startHarness({ env: { ZOHO_API_DOMAIN: other.url } });
    try {
      const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] });
      // The token came from h.crm, the API calls went to the pinned host, which refuses it: the
      // answer a wrong data center gives, with the hint that says so.
      expectZohoError(result, "INVALID_TOKEN", "invalid oauth token", /ZOHO_DC/);
      expect(h.crm.stats.tokenRequests).toBeGreaterThan(0);
      expect(h.crm.stats.crmRequests).toBe(0);
      expect(other.stats.crmRequests).toBeGreaterThan(0);
      // A token refused from its first use is no expiry: no refresh could help, none is asked for
      // (each would spend one of Zoho's ten tokens per ten minutes).
      expect(h.crm.stats.tokenRequests).toBe(1);
      const again = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] });
      expectZohoError(again, "INVALID_TOKEN", "invalid oauth token", /ZOHO_DC/);
      expect(h.crm.stats.tokenRequests).toBe(1);
    } finally {
      await done(h);
      await other.close();
    }
  });

  it("a static ZOHO_ACCESS_TOKEN works; once expired, says so without trying to refresh", async () => {
    let token = "";
    const h = await startHarness({
      env: (crm) => {
        token = crm.issueAccessToken();
        return { ZOHO_CLIENT_ID: "", ZOHO_CLIENT_SECRET: "", ZOHO_REFRESH_TOKEN: "", ZOHO_ACCESS_TOKEN: token, ZOHO_API_DOMAIN: crm.url };
      },
    });
    issuedTokens.add(token);
    try {
      expect(h.config.auth.kind).toBe("static");
      expect(structured(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes" })).count).toBe(7);
      h.crm.expireAllTokens();
      h.crm.resetStats();
      const t = expectZohoError(await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] }), "ACCESS_TOKEN_EXPIRED", "ZOHO_ACCESS_TOKEN", /Set a new one, or configure ZOHO_CLIENT_ID/);
      expect(t).not.toContain(token);
      expect(h.crm.stats.tokenRequests).toBe(0);
      expect(h.crm.stats.crmRequests).toBe(1);
      // Later calls say the same without asking Zoho again.
      expectZohoError(await call(h, "get_open_activities", lead), "ACCESS_TOKEN_EXPIRED", "ZOHO_ACCESS_TOKEN", /ZOHO_REFRESH_TOKEN/);
      expect(h.crm.stats.crmRequests).toBe(1);
      expect(h.crm.stats.tokenRequests).toBe(0);
    } finally {
      await done(h);
    }
  });

  it("a refused refresh (HTTP 200 with {\"error\":\"invalid_code\"}) is reported clearly, once, with no secret", async () => {
    const h = await startHarness({ crm: { refreshToken: "1000.some-other-refresh-token" } });
    try {
      const result = await call(h, "get_related_records", { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] });
      const t = expectZohoError(result, "TOKEN_REFRESH_FAILED", "invalid_code", /ZOHO_REFRESH_TOKEN/);
      expect(t).toContain(h.crm.url); // which accounts server said no
      expect(h.crm.stats.tokenRequests).toBe(1); // never retried: Zoho counts every attempt
      expect(h.crm.stats.crmRequests).toBe(0);
      // The refusal is remembered for a while: the next call does not ask again.
      expectZohoError(await call(h, "get_open_activities", lead), "TOKEN_REFRESH_FAILED", "invalid_code", /ZOHO_REFRESH_TOKEN/);
      expect(h.crm.stats.tokenRequests).toBe(1);
      for (const secret of Object.values(CANARY)) expect(t).not.toContain(secret);
    } finally {
      await done(h);
    }
  });

  it("a wrong client secret (invalid_client) is reported the same way", async () => {
    const h = await startHarness({ crm: { clientSecret: "another-secret-entirely" } });
    try {
      const t = expectZohoError(await call(h, "list_related_lists", { module_api_name: "Leads" }), "TOKEN_REFRESH_FAILED", "invalid_client", /ZOHO_CLIENT_SECRET/);
      expect(t).not.toContain(CANARY.clientSecret);
    } finally {
      await done(h);
    }
  });
});

describe("faults on the way to Zoho", () => {
  let h: Harness;
  const notes = { ...lead, related_list_api_name: "Notes", fields: ["Note_Title"] };
  beforeAll(async () => {
    // Short enough to keep the suite quick, long enough that a loaded machine never trips it by accident.
    h = await startHarness({ env: { ZOHO_TIMEOUT_MS: "1000" }, crm: { refreshLimit: { max: 2, windowMs: 600_000 } } });
  });
  afterAll(async () => {
    await done(h);
  });

  it("a hung request times out, is retried once, then reported as TIMEOUT", { timeout: 20_000 }, async () => {
    await call(h, "get_related_records", notes); // token, metadata and the org (web addresses) first
    h.crm.faults.hang = 1;
    h.crm.resetStats();
    expect(structured(await call(h, "get_related_records", notes)).count).toBe(7);
    expect(relatedRequests(h)).toHaveLength(2);

    h.crm.faults.hang = 2;
    h.crm.resetStats();
    expectZohoError(await call(h, "get_related_records", notes), "TIMEOUT", "ZOHO_TIMEOUT_MS (1000 ms)", /raise ZOHO_TIMEOUT_MS/);
    expect(relatedRequests(h)).toHaveLength(2);
    await until(() => h.crm.stats.inFlight === 0, "the hung sockets to close");
  });

  it("a reset connection is retried; a malformed body is INVALID_RESPONSE", async () => {
    h.crm.faults.reset = 1;
    expect(structured(await call(h, "get_related_records", notes)).count).toBe(7);
    h.crm.faults.malformed = 1;
    expectZohoError(await call(h, "get_related_records", notes), "INVALID_RESPONSE", "not valid JSON", /Try again/);
  });

  it("Zoho's refresh limit: REFRESH_RATE_LIMITED, and no further token requests for a while", async () => {
    await call(h, "get_related_records", notes); // the harness holds a token (the first of two allowed)
    h.crm.expireAllTokens();
    expect(structured(await call(h, "get_related_records", notes)).count).toBe(7); // second token
    h.crm.expireAllTokens();
    h.crm.resetStats();
    expectZohoError(await call(h, "get_related_records", notes), "REFRESH_RATE_LIMITED", "", /10 access tokens per 10 minutes/);
    expect(h.crm.stats.tokenRequests).toBe(1);
    // Every ask extends Zoho's block: the next calls do not ask again.
    expectZohoError(await call(h, "get_open_activities", lead), "REFRESH_RATE_LIMITED", "", /Wait a few minutes/);
    expect(h.crm.stats.tokenRequests).toBe(1);
  });
});

// ------------------------------------------------------------------------------------------------

describe("secrets", () => {
  it("no result or log of this file holds a CANARY secret or an issued access token", () => {
    expect(seen.length).toBeGreaterThan(50);
    expect(issuedTokens.size).toBeGreaterThan(1);
    const all = seen.join("\n");
    for (const secret of [CANARY.clientSecret, CANARY.refreshToken, ...issuedTokens]) expect(all).not.toContain(secret);
  });
});
