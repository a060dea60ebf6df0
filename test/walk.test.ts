import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

/** Auto-pagination through the server and the demo CRM: which pages are asked for, in what order they come back. */
describe("get_related_records walk", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_RECORDS: "10000", ZOHO_CONCURRENCY: "4" } });
  });
  afterAll(() => h.close());

  const crmPages = () =>
    // GET /org (the web-address template, read beside the list) is not a page.
    h.crm.stats.requests.filter((r) => r.path.includes("/crm/v7/") && !r.path.includes("/settings/") && r.path !== "/crm/v7/org").map((r) => r.query.page ?? `token`);

  test("2,000 records: pages 1..10 by number, each once, records in Zoho's order", async () => {
    h.crm.resetStats();
    const result = await h.call("get_related_records", { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", max_records: 2000 });
    const structured = result.structuredContent as { records: Array<{ id: string }>; count: number; more_records: boolean };
    expect(structured.count).toBe(2000);
    expect(structured.more_records).toBe(true);
    expect(crmPages().sort((a, b) => Number(a) - Number(b))).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    expect(h.crm.stats.maxInFlight).toBeLessThanOrEqual(4);
    // Zoho's order survives pages finishing out of order: page 1's first record leads.
    const page1 = await h.call("get_related_records", { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", page: 1, per_page: 200 });
    const first = (page1.structuredContent as { records: Array<{ id: string }> }).records;
    expect(structured.records.slice(0, 200).map((r) => r.id)).toEqual(first.map((r) => r.id));
    expect(new Set(structured.records.map((r) => r.id)).size).toBe(2000);
  });

  test("a short list asked for many pages: all of it, and no more requests than the cap", async () => {
    h.crm.resetStats();
    const result = await h.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes", max_records: 2000 });
    expect((result.structuredContent as { count: number }).count).toBe(7);
    expect(h.text(result)).toContain("That is all of them.");
    // Pages 2..4 may have left with page 1 (they share its round trip); pages 5..10 never do.
    expect(crmPages().length).toBeLessThanOrEqual(4);
    expect(crmPages()).toContain("1");
  });

  test("summary: columns named once, one line per record starting with its id; links named by id", async () => {
    const result = await h.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" });
    const [headline, template, ...rest] = h.text(result).split("\n");
    expect(headline).toBe(`Notes of Leads ${DEMO.leadId}: 7 records. Columns: id | Note_Title | Note_Content | Owner | Created_Time | Modified_Time`);
    expect(template).toBe(`Open in Zoho: https://crm.zoho.com/crm/${DEMO.orgDomain}/tab/Notes/{id}`);
    const links = result.content.filter((c) => c.type === "resource_link");
    expect(links).toHaveLength(7);
    links.forEach((link, i) => {
      expect(link.name).toBe(link.uri.split("/").pop());
      expect(rest[i]!.startsWith(`${link.name} | `)).toBe(true);
    });
    const empty = await h.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Attachments" });
    expect(h.text(empty).split("\n")[0]).toBe(`Attachments of Leads ${DEMO.leadId}: 0 records. Fields: File_Name, Size, Owner, Created_Time`);
  });
  test("with a cap of 1, a short list asked for many pages costs exactly one request", async () => {
    const one = await startHarness({ env: { ZOHO_CONCURRENCY: "1" } });
    try {
      await one.call("list_related_lists", { module_api_name: "Leads" }); // metadata cached first
      await one.call("get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId }); // and the org (web addresses)
      one.crm.resetStats();
      const result = await one.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2000 });
      expect((result.structuredContent as { count: number }).count).toBe(7);
      expect(one.crm.stats.requests.filter((r) => !r.path.includes("/settings/"))).toHaveLength(1);
    } finally {
      await one.close();
    }
  });

  test("a walk cut short by max_records says how to go on without losing or repeating a record", async () => {
    const notes = { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", fields: ["Note_Title"] };
    const ids = (r: { structuredContent?: unknown }) => (r.structuredContent as { records: Array<{ id: string }> }).records.map((x) => x.id);
    const full = ids(await h.call("get_related_records", { ...notes, max_records: 2600 }));

    // Past record 2000 (token phase): the last page was cut at 50 of 200; its own token fetches it again.
    const cut = await h.call("get_related_records", { ...notes, max_records: 2450 });
    expect(ids(cut)).toEqual(full.slice(0, 2450));
    expect((cut.structuredContent as { next_page_token: string | null }).next_page_token).toBeNull();
    const [, token, expiry] = /continue with page_token="([^"]+)" \(valid until ([^)]+)\) and the same fields, per_page \(200\), sort and filters, skipping its first 50 records/.exec(h.text(cut)) ?? [];
    expect(token).toBeDefined();
    // Zoho's page_token_expiry, passed on as given, with the previous page's token.
    expect(expiry).toBe((cut.structuredContent as { page_token_expiry: string }).page_token_expiry);
    expect(expiry).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect((cut.structuredContent as { previous_page_token: string | null }).previous_page_token).toMatch(/^\S+$/);
    expect(cut.structuredContent?.resume).toEqual({ page_token: token, per_page: 200, skip: 50 });
    const again = await h.call("get_related_records", { ...notes, per_page: 200, page_token: token });
    expect(ids(again).slice(50)).toEqual(full.slice(2450, 2600));

    // Below record 2000 (numbered pages): the cut page by its number.
    const short = await h.call("get_related_records", { ...notes, max_records: 250 });
    expect(h.text(short)).toContain("continue with page=2 and the same fields, per_page (200), sort and filters, skipping its first 50 records");
    expect(short.structuredContent?.resume).toEqual({ page: 2, per_page: 200, skip: 50 });
    const page2 = await h.call("get_related_records", { ...notes, page: 2, per_page: 200 });
    expect(ids(page2).slice(50)).toEqual(full.slice(250, 400));
  });

  test("an unknown related list costs the metadata request only, and names the lists there are", async () => {
    h.crm.resetStats();
    const result = await h.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notez" });
    expect(result.isError).toBe(true);
    expect(h.text(result)).toMatch(/^Invalid input: related_list_api_name: Notez is not a related list of Leads\. Its lists: Notes, /);
    expect(h.crm.stats.requests.every((r) => r.path.startsWith("/crm/v7/settings/related_lists"))).toBe(true);
  });
});

describe("ZOHO_MAX_RECORDS bounds every call", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_RECORDS: "50" } });
  });
  afterAll(() => h.close());
  const notes = { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_list_api_name: "Notes", fields: ["Note_Title"] };
  const count = (r: { structuredContent?: unknown }) => (r.structuredContent as { count: number }).count;

  test("one page asks for at most the cap, and a per_page above it is refused before any request", async () => {
    h.crm.resetStats();
    expect(count(await h.call("get_related_records", { ...notes, page: 1 }))).toBe(50);
    expect(h.crm.stats.requests.find((r) => r.path.endsWith("/Notes"))?.query.per_page).toBe("50");
    h.crm.resetStats();
    const refused = await h.call("get_related_records", { ...notes, page: 1, per_page: 200 });
    expect(h.text(refused)).toBe("Invalid input: per_page: 200 is above ZOHO_MAX_RECORDS (50), the most records one call may fetch");
    expect(h.crm.stats.requests.filter((r) => r.path.endsWith("/Notes"))).toHaveLength(0);
  });

  test("page is checked against the per_page actually sent (50 here, not Zoho's 200)", async () => {
    h.crm.resetStats();
    // Page 40 of 50 ends at record 2000 exactly: Zoho serves it by number.
    const last = await h.call("get_related_records", { ...notes, page: 40 });
    expect(last.isError).toBeFalsy();
    expect(h.crm.stats.requests.filter((r) => r.path.endsWith("/Notes")).map((r) => [r.query.page, r.query.per_page])).toEqual([["40", "50"]]);
    h.crm.resetStats();
    const past = await h.call("get_related_records", { ...notes, page: 41 });
    expect(h.text(past)).toBe("Invalid input: page: page × per_page (50) must stay within record 2000; beyond it use page_token from the previous result");
    expect(h.crm.stats.requests.filter((r) => r.path.endsWith("/Notes"))).toHaveLength(0);
  });

  test("a walk without max_records stops at the cap without claiming max_records was lowered", async () => {
    const result = await h.call("get_related_records", notes);
    expect(count(result)).toBe(50);
    expect(h.text(result)).not.toContain("was lowered");
    expect(h.text(await h.call("get_related_records", { ...notes, max_records: 500 }))).toContain("max_records was lowered to ZOHO_MAX_RECORDS (50).");
  });

  test("the overview's lists share the cap: all of them together fetch at most ZOHO_MAX_RECORDS, and it says when a Leads list leaves converted leads out", async () => {
    h.crm.resetStats();
    const overview = await h.call("get_related_overview", { module_api_name: "Campaigns", record_id: DEMO.campaignId });
    const asked = h.crm.stats.requests.filter((r) => !r.path.includes("/settings/"));
    // Campaigns has 8 visible lists: floor(50 / 8) = 6 records each, 48 in all (it was 50 each, 400 in all).
    expect(asked).toHaveLength(8);
    expect(asked.map((r) => r.query.per_page)).toEqual(Array(8).fill("6"));
    expect(h.text(overview)).toMatch(/^Leads: 4 not converted/m);
  });
});
