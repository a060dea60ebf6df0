// Cancellation reaches Zoho: a tool call the client abandons (its AbortSignal, so the SDK client's
// notifications/cancelled, or an HTTP client that disconnects) stops its Zoho requests within one
// request's time, starts no more, and leaves its concurrency slot to the next call at once; nothing
// is logged as an error and the server goes on serving. In memory and over real HTTP, with the
// SDK's own clients and the demo CRM answering each request after LATENCY ms.
import { request } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { Logger, type Level } from "../src/log.js";
import { buildServer, createDeps } from "../src/server.js";
import { startHttpServer, type HttpServerHandle } from "../src/transports/http.js";
import type { ToolDeps } from "../src/tools/types.js";
import { ZohoClient } from "../src/zoho/client.js";
import { startHarness, type Harness } from "./helpers.js";
import { connectSignedIn, startSignInServer } from "./oauth-helpers.js";

const LATENCY = 200;
/** 2,000 notes: ten pages of 200, one at a time under ZOHO_CONCURRENCY 1. */
const WALK = { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2000 };
const ONE_PAGE = { ...WALK, max_records: undefined, page: 1, per_page: 1 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps every line the server logs, to show that a cancellation is no error. */
class RecordingLogger extends Logger {
  readonly lines: { level: Level; message: string }[] = [];
  override log(level: Level, message: string): void {
    this.lines.push({ level, message });
    super.log(level, message);
  }
}

let h: Harness;
let logger: RecordingLogger;
let deps: ToolDeps;
let memory: Client;
let http: HttpServerHandle;

beforeAll(async () => {
  h = await startHarness({ env: { ZOHO_CONCURRENCY: "1" } });
  logger = new RecordingLogger(false);
  // One deps for both faces, as a process has: one token cache, one concurrency cap of 1.
  deps = createDeps(h.config, logger);
  memory = new Client({ name: "memory-client", version: "1.0.0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([buildServer(deps).connect(serverSide), memory.connect(clientSide)]);
  http = await startHttpServer(deps, { host: "127.0.0.1", port: 0, token: undefined, allowedOrigins: [] });
  // Token and metadata cached: the figures below count the walk's pages alone.
  await memory.callTool({ name: "get_related_records", arguments: ONE_PAGE });
});

afterAll(async () => {
  await memory.close();
  await http.close();
  await h.close();
});

async function httpClient(): Promise<Client> {
  const client = new Client({ name: "http-client", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
  return client;
}

/**
 * Runs `start`, which begins the walk and abandons it (by its own means) when `firstPage` is
 * called; then measures what the demo CRM saw after that moment, and how soon a call made right
 * after got its slot. The walk's outcome is the caller's to check.
 */
async function abandonAfterFirstPage(start: (firstPage: () => void) => Promise<unknown>) {
  h.crm.faults.latencyMs = LATENCY;
  h.crm.resetStats();
  logger.lines.length = 0;
  let abandonedAt = 0;
  let inFlightThen: typeof h.crm.stats.requests = [];
  const outcome = start(() => {
    if (abandonedAt) return;
    abandonedAt = Date.now();
    inFlightThen = h.crm.stats.requests.filter((r) => r.endedAt === 0);
  });
  await vi.waitFor(() => expect(abandonedAt).toBeGreaterThan(0), { timeout: 10_000, interval: 5 });
  // The requests in flight end at once, unanswered (the CRM sees their sockets close).
  await vi.waitFor(() => expect(h.crm.stats.inFlight).toBe(0), { timeout: 5 * LATENCY, interval: 5 });
  const stoppedMs = Date.now() - abandonedAt;
  // A call right after gets the one slot at once: its request reaches the CRM before the walk's
  // next page would have been answered.
  const asked = Date.now();
  const next = (await memory.callTool({ name: "get_related_records", arguments: ONE_PAGE })) as CallToolResult;
  expect(next.isError).toBeFalsy();
  const nextRequest = h.crm.stats.requests.find((r) => r.startedAt >= asked)!;
  const waitedForSlotMs = nextRequest.startedAt - asked;
  // Two more latency periods: the walk would have asked for two more pages by now.
  await sleep(2 * LATENCY);
  const walkPages = h.crm.stats.requests.filter((r) => r.path.endsWith("/Notes") && r.query.per_page === "200");
  const lateStarts = walkPages.filter((r) => r.startedAt > abandonedAt + LATENCY / 2);
  h.crm.faults.latencyMs = 0;
  await outcome;
  return { stoppedMs, waitedForSlotMs, walkPages, lateStarts, inFlightThen };
}

function expectStoppedAtOnce(seen: Awaited<ReturnType<typeof abandonAfterFirstPage>>, what: string): void {
  console.info(
    `${what}: ${seen.walkPages.length} of 10 pages asked, ${seen.inFlightThen.length} in flight cut off, CRM idle ${seen.stoppedMs} ms after, next call's request after ${seen.waitedForSlotMs} ms`,
  );
  expect(seen.lateStarts).toEqual([]);
  expect(seen.walkPages.length).toBeLessThan(5);
  expect(seen.stoppedMs).toBeLessThan(LATENCY);
  for (const r of seen.inFlightThen) expect(r.status).toBe(0);
  expect(seen.waitedForSlotMs).toBeLessThan(LATENCY / 2);
  // The client's choice, not the server's failure: said at info, never as an error.
  expect(logger.lines.filter((l) => l.level === "error")).toEqual([]);
  expect(logger.lines.some((l) => l.level === "info" && l.message === "get_related_records cancelled by the client")).toBe(true);
}

describe("a cancelled call stops its Zoho requests and frees its slot at once", () => {
  it("in memory: the SDK client's AbortSignal", async () => {
    const controller = new AbortController();
    const seen = await abandonAfterFirstPage(async (firstPage) => {
      const call = memory.callTool({ name: "get_related_records", arguments: WALK }, undefined, { signal: controller.signal, onprogress: () => (firstPage(), controller.abort()) });
      await expect(call).rejects.toThrow(/abort/i);
    });
    expectStoppedAtOnce(seen, "in memory");
  });

  it("over HTTP: the SDK client's AbortSignal (its notifications/cancelled comes in a POST of its own)", async () => {
    const client = await httpClient();
    const controller = new AbortController();
    const seen = await abandonAfterFirstPage(async (firstPage) => {
      const call = client.callTool({ name: "get_related_records", arguments: WALK }, undefined, { signal: controller.signal, onprogress: () => (firstPage(), controller.abort()) });
      await expect(call).rejects.toThrow(/abort/i);
    });
    expectStoppedAtOnce(seen, "over HTTP, cancelled");
    // The cancelled call's response stream is closed too, not left open with nothing to send.
    await vi.waitFor(() => expect(http.inFlight()).toBe(0));
    await client.close();
  });

  it("over HTTP: a client that disconnects mid-call", async () => {
    const seen = await abandonAfterFirstPage(
      (firstPage) =>
        new Promise<void>((resolve) => {
          const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "get_related_records", arguments: WALK, _meta: { progressToken: "p" } } });
          const req = request(http.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" } }, (res) => {
            res.on("data", (chunk: Buffer) => {
              if (!chunk.toString().includes("notifications/progress")) return;
              firstPage();
              req.destroy();
            });
          });
          req.on("close", resolve);
          req.on("error", () => undefined);
          req.end(body);
        }),
    );
    expectStoppedAtOnce(seen, "over HTTP, disconnected");
    await vi.waitFor(() => expect(http.inFlight()).toBe(0));
  });

  it("the server goes on serving: a whole walk afterwards, over both", async () => {
    const client = await httpClient();
    for (const c of [memory, client]) {
      const result = (await c.callTool({ name: "get_related_records", arguments: WALK })) as CallToolResult;
      expect((result.structuredContent as { count: number }).count).toBe(2000);
    }
    await client.close();
  });
});

describe("metadata a cancelled call was waiting for", () => {
  /** A server of its own, with cold metadata caches, on the same demo CRM. */
  async function coldClient(): Promise<Client> {
    const client = new Client({ name: "cold-client", version: "1.0.0" });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([buildServer(createDeps(h.config, logger)).connect(serverSide), client.connect(clientSide)]);
    return client;
  }
  const OVERVIEW = { module_api_name: "Leads", record_id: DEMO.leadId };

  it("an overview cancelled while it reads the lists' metadata asks for no more of it", async () => {
    const client = await coldClient();
    h.crm.faults.latencyMs = LATENCY;
    h.crm.resetStats();
    try {
      const controller = new AbortController();
      const call = client.callTool({ name: "get_related_overview", arguments: OVERVIEW }, undefined, { signal: controller.signal });
      // The first metadata answer is in (the related lists): the lists' field metadata is queued behind the cap of 1.
      await vi.waitFor(() => expect(h.crm.stats.requests.some((r) => r.endedAt > 0)).toBe(true), { timeout: 5000, interval: 5 });
      const abortedAt = Date.now();
      controller.abort();
      await expect(call).rejects.toThrow(/abort/i);
      await vi.waitFor(() => expect(h.crm.stats.inFlight).toBe(0), { timeout: LATENCY, interval: 5 });
      await sleep(3 * LATENCY);
      const late = h.crm.stats.requests.filter((r) => r.startedAt > abortedAt + LATENCY / 2);
      console.info(`overview cancelled after the first metadata answer: ${h.crm.stats.requests.length} requests in all, ${late.length} started after`);
      expect(late.map((r) => r.path)).toEqual([]);
    } finally {
      h.crm.faults.latencyMs = 0;
      await client.close();
    }
  });

  it("a metadata request two calls wait for goes on when only one of them is cancelled", async () => {
    const client = await coldClient();
    h.crm.faults.latencyMs = 50;
    h.crm.resetStats();
    try {
      const controller = new AbortController();
      const args = { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" };
      const cancelled = client.callTool({ name: "get_related_records", arguments: args }, undefined, { signal: controller.signal });
      const other = client.callTool({ name: "get_related_records", arguments: args }) as Promise<CallToolResult>;
      await vi.waitFor(() => expect(h.crm.stats.requests.length).toBeGreaterThan(0), { interval: 5 });
      controller.abort();
      await expect(cancelled).rejects.toThrow(/abort/i);
      const result = await other;
      expect(result.isError).toBeFalsy();
      expect((result.structuredContent as { count: number }).count).toBe(DEMO.leadNoteIds.length);
      // Asked once for both: the shared request was not cut off and asked again.
      expect(h.crm.stats.requests.filter((r) => r.path.endsWith("/settings/related_lists"))).toHaveLength(1);
    } finally {
      h.crm.faults.latencyMs = 0;
      await client.close();
    }
  });
});

describe("over HTTP, a cancellation names its call by caller and id", () => {
  it("two clients on one token with the same request id: a cancellation of that id ends neither (it is ignored, not guessed)", async () => {
    h.crm.faults.latencyMs = 20;
    const [first, second] = [await httpClient(), await httpClient()];
    try {
      const controller = new AbortController();
      // Both fresh clients number their requests alike: these two calls share their id.
      const cancelled = first.callTool({ name: "get_related_records", arguments: WALK }, undefined, { signal: controller.signal, onprogress: () => controller.abort() });
      const other = second.callTool({ name: "get_related_records", arguments: WALK }) as Promise<CallToolResult>;
      await expect(cancelled).rejects.toThrow(/abort/i);
      expect(((await other).structuredContent as { count: number }).count).toBe(2000);
    } finally {
      h.crm.faults.latencyMs = 0;
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe("with per-user sign-in (--http --oauth)", () => {
  it("a signed-in user's cancelled walk stops, and the other user's call gets a slot at once", async () => {
    // ZOHO_CONCURRENCY 2: each user's share is 1, the organization's cap 2.
    const signIn = await startSignInServer({ crm: h.crm, env: { ZOHO_CONCURRENCY: "2" } });
    try {
      const [patricia, ravi] = [(await connectSignedIn(signIn.mcpUrl, "patricia")).client, (await connectSignedIn(signIn.mcpUrl, "ravi")).client];
      await Promise.all([patricia, ravi].map((c) => c.callTool({ name: "get_related_records", arguments: ONE_PAGE })));
      h.crm.faults.latencyMs = LATENCY;
      h.crm.resetStats();
      const controller = new AbortController();
      let abortedAt = 0;
      const walk = patricia.callTool({ name: "get_related_records", arguments: WALK }, undefined, { signal: controller.signal, onprogress: () => ((abortedAt ||= Date.now()), controller.abort()) });
      await expect(walk).rejects.toThrow(/abort/i);
      await vi.waitFor(() => expect(h.crm.stats.inFlight).toBe(0), { timeout: LATENCY, interval: 5 });
      const asked = Date.now();
      expect(((await ravi.callTool({ name: "get_related_records", arguments: ONE_PAGE })) as CallToolResult).isError).toBeFalsy();
      expect(h.crm.stats.requests.find((r) => r.startedAt >= asked)!.startedAt - asked).toBeLessThan(LATENCY / 2);
      await sleep(2 * LATENCY);
      expect(h.crm.stats.requests.filter((r) => r.query.per_page === "200" && r.startedAt > abortedAt + LATENCY / 2)).toEqual([]);
      await Promise.all([patricia.close(), ravi.close()]);
    } finally {
      h.crm.faults.latencyMs = 0;
      await signIn.close();
    }
  });
});

describe("the one HTTP client and its cap", () => {
  it("a request queued behind the cap whose signal aborts leaves at once and never reaches Zoho", async () => {
    const client = new ZohoClient(h.config, new Logger(false));
    const path = `Accounts/${DEMO.bulkAccountId}/Notes`;
    await client.get(path, { searchParams: { fields: "Note_Title", per_page: 1 } }); // token cached
    h.crm.faults.latencyMs = 500;
    h.crm.resetStats();
    try {
      const holder = client.get(path, { searchParams: { fields: "Note_Title", per_page: 1 } });
      const controller = new AbortController();
      const queued = client.get(path, { searchParams: { fields: "Note_Title", per_page: 2 }, signal: controller.signal });
      await sleep(50);
      const abortedAt = Date.now();
      controller.abort();
      await expect(queued).rejects.toThrow(/abort/i);
      // Not when its turn would have come (the holder answers after 500 ms): now.
      expect(Date.now() - abortedAt).toBeLessThan(100);
      expect((await holder).status).toBe(200);
      await sleep(50);
      expect(h.crm.stats.requests.map((r) => r.query.per_page)).toEqual(["1"]);
    } finally {
      h.crm.faults.latencyMs = 0;
    }
  });
});
