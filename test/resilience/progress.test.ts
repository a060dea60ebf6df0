// Progress notifications during auto-pagination, cancellation of a walk, and what the client
// hears through MCP logging while Zoho pushes back.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO } from "../../src/demo/seed.js";
import { startHarness, type Harness } from "../helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { ZOHO_CONCURRENCY: "4", ZOHO_MAX_RECORDS: "5000" } });
});
afterAll(async () => {
  h.expectNoLeaks();
  await h.close();
});

const MASS = { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_list_api_name: "Notes", fields: ["Note_Title"] };
const BULK = { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", fields: ["Note_Title"] };

describe("progress", () => {
  it("a walk with a progress token reports records fetched of the target, ending at the count", async () => {
    const seen: { progress: number; total?: number }[] = [];
    const result = await h.call("get_related_records", { ...MASS, max_records: 2000 }, { onprogress: (p) => seen.push(p) });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent?.count).toBe(2000);
    // Ten pages of 200: one notification per page, whichever page lands first, counting up to the target.
    expect(seen.map((p) => p.progress)).toEqual([200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000]);
    expect(seen.every((p) => p.total === 2000)).toBe(true);
  });

  it("past the 2000-record page limit the page_token walk keeps reporting", async () => {
    const seen: number[] = [];
    const result = await h.call("get_related_records", { ...MASS, max_records: 2450 }, { onprogress: (p) => seen.push(p.progress) });
    expect(result.structuredContent?.count).toBe(2450);
    expect(seen.at(-1)).toBe(2450);
    expect(seen.length).toBe(13); // 10 numbered pages, then 3 by page_token
  });

  it("one page asked by number sends no progress", async () => {
    const seen: number[] = [];
    await h.call("get_related_records", { ...MASS, page: 1 }, { onprogress: (p) => seen.push(p.progress) });
    expect(seen).toEqual([]);
  });
});

describe("cancellation", () => {
  it("aborting a walk cancels its in-flight requests and starts no more", async () => {
    h.crm.resetStats();
    h.crm.faults.latencyMs = 150;
    try {
      const controller = new AbortController();
      let pagesIn = 0;
      const call = h.call("get_related_records", { ...BULK, max_records: 2000 }, {
        signal: controller.signal,
        onprogress: () => {
          // Pages 1 and one more are in: the rest of pages 2..10 are being fetched, four at a time.
          if (++pagesIn === 2) controller.abort();
        },
      });
      await expect(call).rejects.toThrow(/abort/i);
      // The server hears notifications/cancelled and its handler ends (it says so at info level)...
      await vi.waitFor(() => expect(h.logs.some((l) => String(l.data).startsWith("get_related_records cancelled"))).toBe(true), { timeout: 5000 });
      // ...having aborted ky's requests: undici closes their sockets and the CRM sees them go. A
      // request whose fetch began just before the abort may still reach the CRM a moment later,
      // only to be cut off: wait for the CRM to settle.
      await vi.waitFor(() => expect(h.crm.stats.inFlight).toBe(0));
      await new Promise((r) => setTimeout(r, 400));
      await vi.waitFor(() => expect(h.crm.stats.inFlight).toBe(0));
      const pages = h.crm.stats.requests.filter((r) => r.path.endsWith("/Notes"));
      // Several latency periods later, nothing more was asked of the CRM.
      await new Promise((r) => setTimeout(r, 600));
      expect(h.crm.stats.requests.filter((r) => r.path.endsWith("/Notes"))).toHaveLength(pages.length);
      expect(pages.length).toBeLessThan(10);
      const answered = pages.filter((r) => r.status === 200).length;
      console.info(`cancellation: walk of 10 pages cancelled after ${answered} answered; ${pages.length - answered} aborted in flight, ${10 - pages.length} never sent`);
    } finally {
      h.crm.faults.latencyMs = 0;
    }
    // The server keeps serving.
    expect((await h.call("get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId })).isError).toBeFalsy();
  });
});

describe("logging notifications", () => {
  it("retries and limits reach the client at warning, without secrets", async () => {
    h.logs.length = 0;
    Object.assign(h.crm.faults, { status429: 1, status5xx: 1 });
    expect((await h.call("get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId })).isError).toBeFalsy();
    Object.assign(h.crm.faults, { status429: 5 });
    const failed = await h.call("get_closed_activities", { module_api_name: "Leads", record_id: DEMO.leadId });
    h.crm.faults.status429 = 0;

    const warnings = h.logs.filter((l) => l.level === "warning").map((l) => String(l.data));
    expect(warnings).toEqual([
      expect.stringMatching(/^retrying GET \/crm\/v7\/Leads\/\d+\/Activities_Chronological_View after HTTP 429 \(retry 1\)$/),
      expect.stringMatching(/^retrying GET .* after HTTP 500 \(retry 2\)$/),
      expect.stringMatching(/after HTTP 429 \(retry 1\)$/),
      expect.stringMatching(/after HTTP 429 \(retry 2\)$/),
      expect.stringMatching(/^get_closed_activities failed: .*TOO_MANY_REQUESTS|^get_closed_activities failed: The number of concurrent/),
    ]);
    expect(h.logs.every((l) => l.logger === "zoho-crm-related-mcp")).toBe(true);
    h.expectNoLeaks(h.text(failed));
  });
});
