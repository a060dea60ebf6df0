// Two replicas' HTTP faces in process, sharing a real redis-server (with a password): a call
// cancelled on one gives its Redis lease back at once, so the other replica's call gets the
// organization's one slot without waiting; a waiter that is cancelled stops asking Redis; and
// /healthz says how Redis stands through an outage while it stays a liveness probe (200).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { Logger } from "../src/log.js";
import { openSharedState, type SharedState } from "../src/redis/index.js";
import { SharedRedis } from "../src/redis/connection.js";
import { KEY_PREFIX, loadRedisSettings } from "../src/redis/settings.js";
import { createDeps } from "../src/server.js";
import { startHttpServer, type HttpServerHandle } from "../src/transports/http.js";
import { startHarness, type Harness } from "./helpers.js";
import { describeRedis, eventually, startRedis, type RedisProcess } from "./redis-helpers.js";

const LATENCY = 200;
const WALK = { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 2000 };
const ONE_PAGE = { ...WALK, max_records: undefined, page: 1, per_page: 1 };
const INFLIGHT = `${KEY_PREFIX}zoho:inflight`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeRedis("one replica's HTTP face with Redis", () => {
  let redis: RedisProcess;
  let h: Harness;
  const replicas: { shared: SharedState; http: HttpServerHandle }[] = [];
  /** The test's own connection, to look at the leases. */
  let admin: SharedRedis;
  const leases = () => admin.client.zcard(INFLIGHT);

  async function connect(url: string): Promise<Client> {
    const client = new Client({ name: "redis-http-client", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return client;
  }

  beforeAll(async () => {
    redis = await startRedis();
    // ZOHO_CONCURRENCY 1 for the organization: one slot, whichever replica holds it.
    h = await startHarness({ env: { ZOHO_CONCURRENCY: "1" } });
    admin = await SharedRedis.open(loadRedisSettings({ MCP_REDIS_URL: redis.url })!, undefined);
    for (let i = 0; i < 2; i++) {
      const logger = new Logger(false);
      const shared = await openSharedState(loadRedisSettings({ MCP_REDIS_URL: redis.url })!, logger, { concurrency: 1 });
      const http = await startHttpServer(createDeps(h.config, logger, shared.concurrency), { host: "127.0.0.1", port: 0, token: undefined, allowedOrigins: [], redis: shared });
      replicas.push({ shared, http });
    }
  }, 20_000);

  afterAll(async () => {
    for (const { shared, http } of replicas) {
      await http.close();
      await shared.close();
    }
    await admin?.close();
    await h?.close();
    await redis?.stop();
    redis?.remove();
  });

  it("a call cancelled on one replica gives its Redis lease back at once: the other replica's next call gets the slot without waiting", async () => {
    const [a, b] = [await connect(replicas[0]!.http.url), await connect(replicas[1]!.http.url)];
    await b.callTool({ name: "get_related_records", arguments: ONE_PAGE }); // token and metadata cached
    await a.callTool({ name: "get_related_records", arguments: ONE_PAGE });
    h.crm.faults.latencyMs = LATENCY;
    h.crm.resetStats();
    try {
      const controller = new AbortController();
      let cancelledAt = 0;
      const walk = a.callTool({ name: "get_related_records", arguments: WALK }, undefined, {
        signal: controller.signal,
        onprogress: () => ((cancelledAt ||= Date.now()), controller.abort()),
      });
      await expect(walk).rejects.toThrow(/abort/i);
      await vi.waitFor(() => expect(h.crm.stats.inFlight).toBe(0), { timeout: LATENCY, interval: 5 });
      // The lease is gone from Redis (a slot lingers with its user at most 20 ms when nobody waits).
      const freedMs = await eventually(async () => (await leases()) === 0, 1000, "the lease released");
      const asked = Date.now();
      const next = (await b.callTool({ name: "get_related_records", arguments: ONE_PAGE })) as CallToolResult;
      expect(next.isError).toBeFalsy();
      const waitedMs = h.crm.stats.requests.find((r) => r.startedAt >= asked)!.startedAt - asked;
      await sleep(2 * LATENCY);
      const walkPages = h.crm.stats.requests.filter((r) => r.query.per_page === "200");
      console.info(`Redis cap of 1: ${walkPages.length} of 10 pages asked, lease gone within ${freedMs} ms of the CRM going idle, the other replica's request after ${waitedMs} ms`);
      expect(walkPages.filter((r) => r.startedAt > cancelledAt + LATENCY / 2)).toEqual([]);
      expect(waitedMs).toBeLessThan(LATENCY / 2);
    } finally {
      h.crm.faults.latencyMs = 0;
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a request waiting for a Redis slot stops asking once cancelled: it leaves at once and never takes the slot", async () => {
    const semaphore = replicas[1]!.shared.concurrency;
    let release!: () => void;
    const holder = replicas[0]!.shared.concurrency.run(undefined, 0, () => new Promise<void>((resolve) => (release = resolve)));
    await eventually(async () => release !== undefined, 1000, "the holder running");
    let ran = 0;
    const controller = new AbortController();
    const waiting = semaphore.run(undefined, 0, async () => void ran++, controller.signal);
    await sleep(100); // refused, polling
    const abortedAt = Date.now();
    controller.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
    expect(Date.now() - abortedAt).toBeLessThan(100);
    release();
    await holder;
    // Long after the slot is free the cancelled request has neither run nor taken it.
    await sleep(300);
    expect(ran).toBe(0);
    expect(await leases()).toBe(0);
  });

  it("/healthz stays 200 through a Redis outage and says how Redis stands, never where it is", async () => {
    const url = replicas[0]!.http.url.replace("/mcp", "/healthz");
    const probe = async () => {
      const response = await fetch(url);
      const text = await response.text();
      expect(text).not.toContain(redis.password);
      expect(text).not.toContain(String(redis.port));
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
    };
    expect(await probe()).toEqual({ status: 200, body: { status: "ok", name: "zoho-crm-related-mcp", version: expect.any(String), redis: "ok" } });

    await redis.stop();
    await eventually(async () => (await probe()).body.redis === "unavailable", 5000, "the probe to say unavailable");
    const during = await probe();
    expect(during).toMatchObject({ status: 200, body: { status: "ok", redis: "unavailable" } });
    // Meanwhile this replica answers for itself: no Zoho request, a reason to come back later.
    const client = await connect(replicas[0]!.http.url);
    const refused = (await client.callTool({ name: "get_related_records", arguments: ONE_PAGE })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toContain("SHARED_STATE_UNAVAILABLE");
    await client.close();

    await redis.start();
    await eventually(async () => (await probe()).body.redis === "ok", 5000, "the probe to say ok again");
    console.info(`/healthz during the outage: ${during.status} ${JSON.stringify(during.body)}`);
  }, 20_000);
});
