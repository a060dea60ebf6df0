// Load: a demo CRM limited like Zoho's Free edition (5 concurrent requests, 429 past it) and a
// server capped at ZOHO_CONCURRENCY=5. Figures are printed for the README, never asserted
// (timing depends on the machine); what is asserted is correctness: no failure, the cap held.
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

const CONCURRENT = 100;
const SEQUENTIAL = 1000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { ZOHO_CONCURRENCY: "5" } });
  Object.assign(h.crm.faults, { concurrencyLimit: 5, latencyMs: 5 });
});
afterAll(async () => {
  h.expectNoLeaks();
  await h.close();
});

/** A mix like an assistant's: notes, activities, contacts and deals, related lists, one two-page walk (pages fetched concurrently). */
const CALLS: Array<[string, Record<string, unknown>, number]> = [
  ["get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" }, 7],
  ["get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId }, 4],
  ["get_closed_activities", { module_api_name: "Leads", record_id: DEMO.leadId }, 3],
  ["get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Contacts" }, DEMO.accountContactCount],
  ["get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Deals" }, DEMO.accountDealCount],
  ["list_related_lists", { module_api_name: "Deals" }, -1],
  ["get_related_records", { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 50, max_records: 100 }, 100],
];

async function timedCall(i: number): Promise<{ ms: number; ok: boolean; detail: string }> {
  const [name, args, expected] = CALLS[i % CALLS.length]!;
  const start = performance.now();
  const result = await h.call(name, args);
  const ms = performance.now() - start;
  const count = (result.structuredContent as { count?: number } | undefined)?.count;
  const ok = !result.isError && (expected < 0 || count === expected);
  return { ms, ok, detail: ok ? "" : `${name}: ${h.text(result).slice(0, 200)}` };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(label: string, runs: { ms: number }[], wallMs: number): void {
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  const requests = h.crm.stats.crmRequests;
  const refused = h.crm.stats.requests.filter((r) => r.status === 429).length;
  console.info(
    `load: ${label}: ${runs.length} calls in ${Math.round(wallMs)} ms, p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms; ` +
      `${requests} CRM requests, max ${h.crm.stats.maxInFlight} in flight, ${refused} answered 429`,
  );
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The heap after a full collection: what the calls left behind, unlike RSS, which the allocator keeps. */
function heapAfterGc(): number {
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

describe("load against a Free-edition CRM (5 concurrent)", () => {
  it(`${CONCURRENT} concurrent tool calls, then ${SEQUENTIAL} sequential: zero failures, the cap held`, async () => {
    // Warm up (token, metadata cache, JIT), then measure from a clean slate.
    for (let i = 0; i < CALLS.length; i++) await timedCall(i);
    h.crm.resetStats();
    const heapBefore = heapAfterGc();
    const rssBefore = process.memoryUsage().rss;

    let start = performance.now();
    const concurrent = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => timedCall(i)));
    report(`${CONCURRENT} concurrent`, concurrent, performance.now() - start);
    expect(concurrent.filter((r) => !r.ok).map((r) => r.detail)).toEqual([]);
    expect(h.crm.stats.maxInFlight).toBeLessThanOrEqual(5);

    // Sequential calls never meet the limit: no added latency, so the figure is the server's own cost.
    h.crm.faults.latencyMs = 0;
    h.crm.resetStats();
    start = performance.now();
    const sequential: { ms: number; ok: boolean; detail: string }[] = [];
    let heapWarm = 0;
    let rssWarm = 0;
    for (let i = 0; i < SEQUENTIAL; i++) {
      sequential.push(await timedCall(i));
      if (i === 99) {
        // JIT, caches and the allocator's pools have settled: from here memory must stay flat.
        heapWarm = heapAfterGc();
        rssWarm = process.memoryUsage().rss;
      }
    }
    report(`${SEQUENTIAL} sequential`, sequential, performance.now() - start);
    expect(sequential.filter((r) => !r.ok).map((r) => r.detail)).toEqual([]);
    expect(h.crm.stats.maxInFlight).toBeLessThanOrEqual(5);

    // The demo CRM's own request log is the fixture's memory, not the server's: drop it first.
    h.crm.resetStats();
    const heapAfter = heapAfterGc();
    const rssAfter = process.memoryUsage().rss;
    console.info(
      `load: RSS ${mb(rssBefore)} before, ${mb(rssWarm)} after the concurrent calls and 100 sequential, ${mb(rssAfter)} after all (${rssAfter >= rssBefore ? "+" : ""}${mb(rssAfter - rssBefore)}); ` +
        `heap after GC ${mb(heapBefore)} before, ${mb(heapWarm)} after 100 sequential calls, ${mb(heapAfter)} after 1000`,
    );
    // Generous on purpose (RSS keeps what the allocator once took): a leak of the kind that
    // matters (per-call buffers, listeners, timers) grows the heap with every one of 1,100 calls.
    expect(rssAfter - rssBefore).toBeLessThan(150 * 1024 * 1024);
    expect(rssAfter - rssWarm).toBeLessThan(100 * 1024 * 1024);
    expect(heapAfter - heapWarm).toBeLessThan(20 * 1024 * 1024);
    expect(h.deps.client.tokens.refreshes).toBe(1);
  }, 60_000);
});
