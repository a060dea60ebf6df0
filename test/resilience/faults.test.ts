// Zoho's limits and failures, injected by the demo CRM, through the real MCP server and client:
// each is either survived (the call succeeds after retries) or ends in a clear error, and the
// server keeps serving. Counts come from the demo CRM's own request log.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO } from "../../src/demo/seed.js";
import { startHarness, type Harness } from "../helpers.js";

// get_open_activities reads a grouped list: one request per call, no metadata lookup first (once
// the org and the modules' web names, for its web-address template, are cached: beforeAll).
const OPEN = { module_api_name: "Leads", record_id: DEMO.leadId };
const ACTIVITIES_PATH = `/crm/v7/Leads/${DEMO.leadId}/Activities_Chronological_View`;

let h: Harness;
/** Faults injected in this file and survived or reported cleanly, for the README's figures. */
const injected = { status429: 0, status5xx: 0, reset: 0, hang: 0, malformed: 0 };

beforeAll(async () => {
  h = await startHarness({ env: { ZOHO_TIMEOUT_MS: "400" } });
  await expectServing();
  h.crm.resetStats();
});
afterAll(async () => {
  h.expectNoLeaks();
  console.info(`faults injected: ${JSON.stringify(injected)}`);
  await h.close();
});
afterEach(() => {
  Object.assign(h.crm.faults, { latencyMs: 0, status429: 0, status5xx: 0, hang: 0, reset: 0, malformed: 0, concurrencyLimit: undefined, retryAfterSeconds: undefined, status5xxCode: undefined });
  h.crm.resetStats();
  h.logs.length = 0;
});

function attempts(): { status: number; startedAt: number; endedAt: number }[] {
  return h.crm.stats.requests.filter((r) => r.path === ACTIVITIES_PATH);
}

async function expectServing(): Promise<void> {
  const result = await h.call("get_open_activities", OPEN);
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent?.count).toBe(4);
}

describe("429 TOO_MANY_REQUESTS", () => {
  it("a burst of two 429s is retried with backoff and the call succeeds", async () => {
    h.crm.faults.status429 = 2;
    injected.status429 += 2;
    const result = await h.call("get_open_activities", OPEN);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent?.count).toBe(4);
    expect(attempts().map((a) => a.status)).toEqual([429, 429, 200]);
    const warnings = h.logs.filter((l) => l.level === "warning").map((l) => String(l.data));
    expect(warnings).toEqual([
      `retrying GET ${ACTIVITIES_PATH} after HTTP 429 (retry 1)`,
      `retrying GET ${ACTIVITIES_PATH} after HTTP 429 (retry 2)`,
    ]);
  });

  it("honours Retry-After: the retry waits at least the seconds Zoho names", async () => {
    Object.assign(h.crm.faults, { status429: 1, retryAfterSeconds: 1 });
    injected.status429 += 1;
    await expectServing();
    const [refused, retried] = attempts();
    expect(refused?.status).toBe(429);
    // A lower bound only (never "faster than"): the wait is the server's instruction.
    expect(retried!.startedAt - refused!.endedAt).toBeGreaterThanOrEqual(950);
  });

  it("a Retry-After longer than a call waits (the day's credits spent): no retry, and the hint names the wait and the credit limit", async () => {
    Object.assign(h.crm.faults, { status429: 3, retryAfterSeconds: 7200 });
    injected.status429 += 1;
    const started = Date.now();
    const result = await h.call("get_open_activities", OPEN);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(attempts()).toHaveLength(1);
    expect(h.text(result)).toMatch(/^Zoho error TOO_MANY_REQUESTS \(HTTP 429\): [^\n]*\nWhat to do: Zoho asks to wait 2 hours \(Retry-After, until \d{4}-.*API credits for the rolling 24 hours are most likely spent/s);
    expect(h.text(result).split("\n")[0]).not.toContain("(after retries)");
  });

  it("a short Retry-After waited out twice: the hint says Zoho asked for it and names both limits", async () => {
    Object.assign(h.crm.faults, { status429: 3, retryAfterSeconds: 0 });
    injected.status429 += 3;
    const result = await h.call("get_open_activities", OPEN);
    expect(attempts()).toHaveLength(3);
    expect(h.text(result)).toMatch(/What to do: Zoho asked to wait 0 s \(Retry-After\) and still refused\. Zoho answers both of its limits with this code.*concurrency limit passes in seconds.*API credits of the rolling 24 hours/s);
  });

  it("stops after its retry budget (2 retries) with Zoho's code and what to do", async () => {
    h.crm.faults.status429 = 10;
    injected.status429 += 3;
    const result = await h.call("get_open_activities", OPEN);
    expect(result.isError).toBe(true);
    expect(h.text(result)).toMatch(/^Zoho error TOO_MANY_REQUESTS \(HTTP 429\): .*\(after retries\)\nWhat to do: .*lower ZOHO_CONCURRENCY/s);
    expect(attempts()).toHaveLength(3);
    h.crm.faults.status429 = 0;
    await expectServing();
  });
});

describe("5xx and connection resets", () => {
  it("two 500s are retried and the call succeeds", async () => {
    h.crm.faults.status5xx = 2;
    injected.status5xx += 2;
    await expectServing();
    expect(attempts().map((a) => a.status)).toEqual([500, 500, 200]);
  });

  it("a lasting 503 ends after 3 attempts in a clear error", async () => {
    Object.assign(h.crm.faults, { status5xx: 5, status5xxCode: 503 });
    injected.status5xx += 3;
    const result = await h.call("get_open_activities", OPEN);
    expect(result.isError).toBe(true);
    expect(h.text(result)).toMatch(/^Zoho error INTERNAL_ERROR \(HTTP 503\): Internal Server Error \(after retries\)\nWhat to do: /);
    expect(attempts()).toHaveLength(3);
  });

  it("ky retries a connection reset (fetch's TypeError) like a 5xx", async () => {
    h.crm.faults.reset = 2;
    injected.reset += 2;
    await expectServing();
    // A reset request is recorded with status 0: nothing was answered.
    expect(attempts().map((a) => a.status)).toEqual([0, 0, 200]);
    expect(h.logs.some((l) => l.level === "warning" && /after TypeError \(retry 1\)/.test(String(l.data)))).toBe(true);
  });

  it("a lasting reset ends after 3 attempts in NETWORK_ERROR", async () => {
    h.crm.faults.reset = 5;
    injected.reset += 3;
    const result = await h.call("get_open_activities", OPEN);
    expect(result.isError).toBe(true);
    expect(h.text(result)).toMatch(/^Zoho error NETWORK_ERROR: could not reach Zoho \(fetch failed: .+\)\nWhat to do: /);
    expect(attempts()).toHaveLength(3);
    h.crm.faults.reset = 0;
    await expectServing();
  });
});

describe("hung requests (ZOHO_TIMEOUT_MS=400)", () => {
  it("one hang: the per-request timeout fires, one retry succeeds", async () => {
    h.crm.faults.hang = 1;
    injected.hang += 1;
    await expectServing();
    expect(attempts().map((a) => a.status)).toEqual([0, 200]);
  });

  it("two hangs: a clear error naming the timeout, the sockets closed", async () => {
    h.crm.faults.hang = 2;
    injected.hang += 2;
    const result = await h.call("get_open_activities", OPEN);
    expect(result.isError).toBe(true);
    expect(h.text(result)).toMatch(/^Zoho error TIMEOUT: Zoho did not answer within ZOHO_TIMEOUT_MS \(400 ms\), twice\nWhat to do: /);
    expect(attempts()).toHaveLength(2);
    // The timed-out requests were aborted (socket closed), not left hanging on the demo CRM.
    await vi.waitFor(() => expect(h.crm.stats.inFlight).toBe(0));
    await expectServing();
  });
});

describe("malformed bodies", () => {
  it("HTTP 200 with truncated JSON: a clear error, no crash, the next call is served", async () => {
    h.crm.faults.malformed = 1;
    injected.malformed += 1;
    const result = await h.call("get_open_activities", OPEN);
    expect(result.isError).toBe(true);
    expect(h.text(result)).toContain("Zoho error INVALID_RESPONSE (HTTP 200): Zoho returned a response that is not valid JSON");
    await expectServing();
  });

  it("a malformed metadata answer does not poison the catalog cache", async () => {
    h.crm.faults.malformed = 1;
    injected.malformed += 1;
    const bad = await h.call("list_related_lists", { module_api_name: "Contacts" });
    expect(h.text(bad)).toContain("not valid JSON");
    const good = await h.call("list_related_lists", { module_api_name: "Contacts" });
    expect(good.isError).toBeFalsy();
  });
});

describe("the concurrency cap across tool calls", () => {
  it("never more than ZOHO_CONCURRENCY requests in flight, with a Free-edition limit on the CRM", async () => {
    const capped = await startHarness({ env: { ZOHO_CONCURRENCY: "3" } });
    try {
      Object.assign(capped.crm.faults, { latencyMs: 15, concurrencyLimit: 3 });
      // Parallel walks (pages 2..10 of the 2450 notes fetched concurrently) beside single pages.
      const calls = [
        ...Array.from({ length: 3 }, () => capped.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_list_api_name: "Notes", max_records: 2000, fields: ["Note_Title"] })),
        ...Array.from({ length: 12 }, () => capped.call("get_closed_activities", OPEN)),
      ];
      const results = await Promise.all(calls);
      expect(results.filter((r) => r.isError).map((r) => capped.text(r))).toEqual([]);
      expect(results.slice(0, 3).map((r) => r.structuredContent?.count)).toEqual([2000, 2000, 2000]);
      expect(capped.crm.stats.maxInFlight).toBeLessThanOrEqual(3);
      expect(capped.crm.stats.requests.filter((r) => r.status === 429)).toEqual([]);
    } finally {
      await capped.close();
    }
  });
});

describe("time queued behind the cap", () => {
  it("does not count against ZOHO_TIMEOUT_MS: only Zoho's own slowness does", async () => {
    // 12 calls through 1 slot, 150 ms each: the last waits ~1.6 s for its turn, far past the
    // 1000 ms timeout, yet Zoho answers every attempt well within it.
    const queued = await startHarness({ env: { ZOHO_CONCURRENCY: "1", ZOHO_TIMEOUT_MS: "1000" } });
    try {
      await queued.call("get_open_activities", OPEN); // token first
      queued.crm.faults.latencyMs = 150;
      queued.crm.resetStats();
      const results = await Promise.all(Array.from({ length: 12 }, () => queued.call("get_open_activities", OPEN)));
      expect(results.filter((r) => r.isError).map((r) => queued.text(r))).toEqual([]);
      expect(queued.crm.stats.requests.map((r) => r.status)).toEqual(Array(12).fill(200));
    } finally {
      await queued.close();
    }
  });
});

describe("the tool call's deadline (ZOHO_CALL_TIMEOUT_MS)", () => {
  it("a Retry-After longer than the deadline ends the call with DEADLINE_EXCEEDED, no further request", async () => {
    const short = await startHarness({ env: { ZOHO_CALL_TIMEOUT_MS: "500" } });
    try {
      expect((await short.call("get_open_activities", OPEN)).isError).toBeFalsy(); // the org cached
      short.crm.resetStats();
      Object.assign(short.crm.faults, { status429: 5, retryAfterSeconds: 30 });
      injected.status429 += 1;
      const result = await short.call("get_open_activities", OPEN);
      expect(result.isError).toBe(true);
      expect(short.text(result)).toMatch(/^Zoho error DEADLINE_EXCEEDED: the tool call did not finish within ZOHO_CALL_TIMEOUT_MS \(500 ms\)\nWhat to do: /);
      expect(short.crm.stats.crmRequests).toBe(1);
      short.crm.faults.status429 = 0;
      const again = await short.call("get_open_activities", OPEN);
      expect(again.isError).toBeFalsy();
      expect(short.config.callTimeoutMs).toBe(500);
      expect(h.config.callTimeoutMs).toBe(120_000); // the default
    } finally {
      await short.close();
    }
  });
  it("a hung metadata request shared by other calls still ends this call at its deadline", async () => {
    const short = await startHarness({ env: { ZOHO_CALL_TIMEOUT_MS: "500", ZOHO_TIMEOUT_MS: "60000" } });
    try {
      short.crm.faults.hang = 1; // the first request, the related-list metadata, never answers
      injected.hang += 1;
      const result = await short.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" });
      expect(short.text(result)).toMatch(/^Zoho error DEADLINE_EXCEEDED: the tool call did not finish within ZOHO_CALL_TIMEOUT_MS \(500 ms\)/);
      expect(short.crm.stats.requests.filter((r) => !r.path.includes("/settings/"))).toHaveLength(0);
    } finally {
      await short.close();
    }
  });
});
