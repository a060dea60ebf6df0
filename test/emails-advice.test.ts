// What the text tells a model to do next on the Emails list must be a call the server takes:
// Zoho's Emails API pages by index only (no page, per_page, ids, If-Modified-Since).
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

const mass = { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_list_api_name: "Emails" };
const recordsOf = (r: CallToolResult) => (r.structuredContent as { records: Array<{ id: string }> }).records.map((x) => x.id);

describe("Emails: advice a model can follow", () => {
  let h: Harness;
  beforeAll(async () => {
    // A budget that prints the first page of ten emails and some of the second, of a walk of all 25.
    h = await startHarness({ env: { ZOHO_RESULT_MAX_CHARS: "4000" } });
  });
  afterAll(() => h.close());

  test("rows past the budget are continued by index (page_token), never by page and per_page, and that call works", async () => {
    const all = await h.call("get_related_records", { ...mass, max_records: 25 });
    expect(all.isError, h.text(all)).toBeFalsy();
    expect(recordsOf(all)).toHaveLength(25);
    const text = h.text(all);
    expect(text).not.toMatch(/per_page=/);
    const token = /To print them, call again with page_token="([^"]+)"/.exec(text)?.[1];
    expect(token, text).toBeDefined();
    const next = await h.call("get_related_records", { ...mass, page_token: token });
    expect(next.isError, h.text(next)).toBeFalsy();
    // The index names the page that holds the first row left out.
    const shown = text.split("\n").filter((l) => /^[0-9a-f]{12}… \|/.test(l)).length;
    const skip = Number(/whose first (\d+) rows are printed already/.exec(text)?.[1] ?? 0);
    expect(shown).toBeGreaterThan(10);
    expect(recordsOf(next)[skip]).toBe(recordsOf(all)[shown]);
  });

  test("stopped at max_records: the footer names only what the Emails API takes", async () => {
    const r = await h.call("get_related_records", { ...mass, max_records: 5 });
    expect(r.isError, h.text(r)).toBeFalsy();
    const footer = h.text(r).split("\n").find((l) => l.startsWith("Stopped at max_records"));
    expect(footer).toBe("Stopped at max_records (5); more records exist: raise max_records (up to 2000).");
  });
});

describe("Emails under a ZOHO_MAX_RECORDS below Zoho's fixed ten", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_RECORDS: "3" } });
  });
  afterAll(() => h.close());

  test("get_related_records on Emails is refused before any request, naming the setting", async () => {
    h.crm.resetStats();
    const r = await h.call("get_related_records", { ...mass });
    expect(r.isError).toBe(true);
    expect(h.text(r)).toBe(
      "Invalid input: related_list_api_name: Emails are read 10 at a time (Zoho's fixed page), more than ZOHO_MAX_RECORDS (3) lets one call fetch; raise ZOHO_MAX_RECORDS to 10 or more",
    );
    expect(h.crm.stats.requests.filter((q) => q.path.endsWith("/Emails"))).toEqual([]);
  });

  test("the overview skips Emails rather than fetch ten records against a cap of three", async () => {
    h.crm.resetStats();
    const r = await h.call("get_related_overview", { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_lists: ["Emails", "Notes", "Attachments", "Products"] });
    expect(r.isError, h.text(r)).toBeFalsy();
    const lists = (r.structuredContent as { related_lists: Array<{ api_name: string; status: string; records: unknown[] }> }).related_lists;
    expect(lists.find((l) => l.api_name === "Emails")?.status).toBe("over_limit");
    expect(h.crm.stats.requests.filter((q) => q.path.endsWith("/Emails"))).toEqual([]);
    expect(lists.reduce((n, l) => n + l.records.length, 0)).toBeLessThanOrEqual(3);
  });
});
