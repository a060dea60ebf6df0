// The Redis pieces on their own, in process, against a real redis-server with a password: the
// ledger's answers and the life of every key it writes, the semaphore's leases (a replica that
// dies holds its slots only until they lapse), and the rate-limit store across an outage.
import { afterAll, beforeAll, expect, it } from "vitest";
import { RECOVERED_AFTER_MS, SharedRedis } from "../src/redis/connection.js";
import { openSharedState } from "../src/redis/index.js";
import { Logger } from "../src/log.js";
import { RedisLedger } from "../src/redis/ledger.js";
import { redisRateLimitStore } from "../src/redis/rate-limit.js";
import { RedisSemaphore } from "../src/redis/semaphore.js";
import { KEY_PREFIX, SharedStateUnavailable, loadRedisSettings } from "../src/redis/settings.js";
import { startSignInServer } from "./oauth-helpers.js";
import { rawSignIn, registerClient } from "./oauth-raw.js";
import { describeRedis, eventually, startRedis, type RedisProcess } from "./redis-helpers.js";

const DAY = 24 * 3600_000;

describeRedis("the shared state in Redis, piece by piece", () => {
  let redis: RedisProcess;
  const opened: SharedRedis[] = [];
  const open = async (waitMs?: number, logger?: Logger) => {
    const shared = await SharedRedis.open(loadRedisSettings({ MCP_REDIS_URL: redis.url })!, logger, waitMs);
    opened.push(shared);
    return shared;
  };

  beforeAll(async () => {
    redis = await startRedis();
  }, 20_000);

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await redis?.stop();
    redis?.remove();
  });

  it("the ledger answers as one process would, and every key expires when what it protects does", async () => {
    const shared = await open();
    const ledger = new RedisLedger(shared, 30 * DAY, 300);
    const now = Date.now();

    expect(await ledger.rotate("sid-rotating", 0)).toBe("current");
    expect(await ledger.rotate("sid-rotating", 0)).toBe("grace");
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await ledger.rotate("sid-rotating", 0)).toBe("replayed");
    expect(await ledger.rotate("sid-rotating", 1)).toBe("current");
    await ledger.withdraw("sid-rotating", 2); // Zoho was down: generation 1 is taken again
    expect(await ledger.rotate("sid-rotating", 1)).toBe("current");

    await ledger.issued("sid-coded", 0);
    await ledger.revokeSignIn("sid-revoked", now + 30 * DAY);
    await ledger.revokeAccessToken("jti-revoked", now + 3600_000);
    expect(await ledger.redeemCode("code-jti", now + 300_000)).toBe(true);
    expect(await ledger.redeemCode("code-jti", now + 300_000)).toBe(false);
    expect(await ledger.isRevoked("sid-revoked")).toBe(true);
    expect(await ledger.isRevoked("sid-coded", "jti-revoked")).toBe(true);
    expect(await ledger.isRevoked("sid-coded", "jti-other")).toBe(false);

    const ttl = (key: string) => shared.client.pttl(`${KEY_PREFIX}${key}`);
    expect(await ttl("signin:sid-revoked:revoked")).toBeGreaterThan(29 * DAY);
    expect(await ttl("signin:sid-revoked:revoked")).toBeLessThanOrEqual(30 * DAY);
    expect(await ttl("access:jti-revoked:revoked")).toBeGreaterThan(3500_000);
    expect(await ttl("access:jti-revoked:revoked")).toBeLessThanOrEqual(3600_000);
    expect(await ttl("code:code-jti")).toBeGreaterThan(290_000);
    expect(await ttl("code:code-jti")).toBeLessThanOrEqual(300_000);
    for (const sid of ["sid-rotating", "sid-coded"]) {
      expect(await ttl(`signin:${sid}:rotation`)).toBeGreaterThan(29 * DAY);
      expect(await ttl(`signin:${sid}:rotation`)).toBeLessThanOrEqual(30 * DAY);
    }
    // Nothing this server writes lives forever (-1: no expiry).
    const keys = await shared.client.keys(`${KEY_PREFIX}*`);
    expect(keys.length).toBe(5);
    for (const key of keys) expect(await shared.client.pttl(key), key).toBeGreaterThan(0);
  });

  /** Redis out of memory (noeviction): every write refused, reads answered, while `work` runs. */
  const outOfMemory = async <T>(work: () => Promise<T>): Promise<T> => {
    const admin = await open();
    await admin.client.config("SET", "maxmemory", "1");
    try {
      return await work();
    } finally {
      await admin.client.config("SET", "maxmemory", "0");
    }
  };

  it("while Redis refuses writes but answers reads, the log says so once and truly, and 'answers again' only after a quiet spell", async () => {
    const lines: string[] = [];
    const logger = new Logger(false);
    logger.attach((_level, line) => void lines.push(line));
    const shared = await open(undefined, logger);
    const key = `${KEY_PREFIX}test:oom`;
    let lastFailure = 0;
    await outOfMemory(async () => {
      // Request after request, a read that works and a write that fails: one outage, not ten.
      for (let i = 0; i < 10; i++) {
        expect(await shared.run((c) => c.get(key))).toBeNull();
        await expect(shared.run((c) => c.set(key, "1"))).rejects.toBeInstanceOf(SharedStateUnavailable);
        lastFailure = Date.now();
      }
      // What /healthz shows meanwhile: connected, some commands refused.
      expect(shared.health).toBe("failing");
    });
    expect(await shared.run((c) => c.set(key, "1"))).toBe("OK");
    const outage = lines.filter((l) => l.includes("Redis at"));
    // Reads are served meanwhile: the line must not say everything answers 503.
    expect(outage).toEqual([expect.stringMatching(/^Redis at redis:\/\/127\.0\.0\.1:\d+ is failing commands \(OOM command not allowed[^)]*\): a request that needs a failing command answers 503, the others are served, until it answers again$/)]);
    const recovered = (l: string) => /^Redis at \S+ answers again \(no failure for 5 s\): requests are served$/.test(l);
    await eventually(async () => lines.some(recovered), RECOVERED_AFTER_MS + 3000, "the recovery logged");
    expect(shared.health).toBe("ok");
    expect(Date.now() - lastFailure).toBeGreaterThanOrEqual(RECOVERED_AFTER_MS);
    expect(lines.filter((l) => l.includes("Redis at"))).toEqual([outage[0], expect.toSatisfy(recovered)]);
    await shared.client.del(key);
  }, 20_000);

  it("/token and /revoke: Redis failing inside the provider, after the limiters let the request in, is a 503 with Retry-After, not the SDK's 400", async () => {
    const state = await openSharedState(loadRedisSettings({ MCP_REDIS_URL: redis.url })!, new Logger(false), { concurrency: 4 });
    const server = await startSignInServer({ settings: { shared: state } });
    try {
      const user = await rawSignIn(server.origin, "patricia");
      const [refresh, revoke] = await outOfMemory(() =>
        Promise.all([
          fetch(`${server.origin}/token`, { method: "POST", body: new URLSearchParams({ grant_type: "refresh_token", client_id: user.clientId, refresh_token: user.refresh, resource: `${server.origin}/mcp` }) }),
          fetch(`${server.origin}/revoke`, { method: "POST", body: new URLSearchParams({ client_id: user.clientId, token: user.access }) }),
        ]),
      );
      for (const answer of [refresh, revoke]) {
        expect(answer.status).toBe(503);
        expect(answer.headers.get("retry-after")).toBe("5");
        expect(answer.headers.get("cache-control")).toBe("no-store");
        // The same answer as an outage caught before the provider (needsShared): one wording.
        expect(await answer.json()).toEqual({ error: "temporarily_unavailable", error_description: SharedStateUnavailable.description });
      }
      // Nothing was used up: once Redis takes writes again, the same refresh token works.
      const again = await fetch(`${server.origin}/token`, { method: "POST", body: new URLSearchParams({ grant_type: "refresh_token", client_id: user.clientId, refresh_token: user.refresh, resource: `${server.origin}/mcp` }) });
      expect(again.status).toBe(200);
    } finally {
      await server.close();
      await state.close();
    }
  }, 30_000);

  it("the sign-in endpoints' rate limits count one bucket per client across replicas", async () => {
    // Two servers (replicas), each with its own connection to the same Redis, /register limited to 3 an hour.
    const states = await Promise.all([1, 2].map(() => openSharedState(loadRedisSettings({ MCP_REDIS_URL: redis.url })!, new Logger(false), { concurrency: 4 })));
    const [a, b] = await Promise.all(states.map((shared) => startSignInServer({ settings: { shared, rateLimit: { register: 3 } } })));
    try {
      const statuses = [];
      for (const origin of [a!.origin, b!.origin, a!.origin, b!.origin]) statuses.push((await registerClient(origin)).status);
      // Alone, each replica would have let its second one in.
      expect(statuses).toEqual([201, 201, 201, 429]);
      expect((await registerClient(a!.origin)).status).toBe(429);
    } finally {
      await Promise.all([a?.close(), b?.close()]);
      await Promise.all(states.map((s) => s.close()));
    }
  });

  it("a slot lingering with its user goes to a replica that waits for it, and a lease reused request after request stays renewed", async () => {
    const [busy, other] = [await open(), await open()];
    const leaseMs = 300;
    const chain = new RedisSemaphore(busy, 1, leaseMs);
    const waiting = new RedisSemaphore(other, 1, leaseMs);
    await Promise.all([chain.listen(), waiting.listen()]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // both subscribed
    // One user's requests back to back on one replica (each 25 ms): without the other's wish being
    // heard, the slot would stay with them for the whole chain.
    const chainStarted = Date.now();
    let chained = 0;
    const running = (async () => {
      while (Date.now() - chainStarted < 4 * leaseMs) await chain.run("u1", 1, async () => (chained++, await new Promise((resolve) => setTimeout(resolve, 25))));
    })();
    await new Promise((resolve) => setTimeout(resolve, 2 * leaseMs));
    // Past its first lease the slot is still held (renewed while reused), and nobody else's.
    const held = await busy.client.zrange(`${KEY_PREFIX}zoho:inflight`, 0, -1, "WITHSCORES");
    const [seconds, micros] = await busy.client.time();
    expect(held).toHaveLength(2); // one member and its score
    expect(Number(held[1])).toBeGreaterThan(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
    const asked = Date.now();
    await waiting.run("u2", 1, async () => undefined);
    expect(Date.now() - asked).toBeLessThan(leaseMs);
    await running;
    expect(chained).toBeGreaterThan(10);
    await Promise.all([chain.close(), waiting.close()]);
  }, 20_000);

  it("a replica that dies holds its concurrency slots only until their leases lapse", async () => {
    const dying = await open();
    const leaseMs = 600;
    const semaphore = new RedisSemaphore(dying, 2, leaseMs);
    // Two requests that never end take both slots of the organization.
    for (let i = 0; i < 2; i++) void semaphore.run("u1", 2, () => new Promise(() => undefined)).catch(() => undefined);
    await eventually(async () => (await dying.client.zcard(`${KEY_PREFIX}zoho:inflight`)) === 2, 2000, "both slots taken");

    const other = await open();
    const waiting = new RedisSemaphore(other, 2, leaseMs);
    await waiting.listen();
    // While the holder lives it renews its leases: no slot for anyone else, well past one lease.
    let got = 0;
    const attempt = waiting.run("u2", 2, async () => void got++);
    await new Promise((resolve) => setTimeout(resolve, 3 * leaseMs));
    expect(got).toBe(0);
    // The holder dies (its connection gone, no renewal, no release): its slots lapse with their leases.
    const died = Date.now();
    dying.client.disconnect();
    await attempt;
    expect(got).toBe(1);
    expect(Date.now() - died).toBeLessThan(leaseMs + 1500);
    await waiting.close();
  }, 20_000);

  it("while Redis is away no Zoho request starts, and the rate-limit store works from whenever Redis does, also after a restart that lost its scripts", async () => {
    await redis.stop();
    const shared = await open(200);
    let started = 0;
    await expect(new RedisSemaphore(shared, 4).run("u1", 2, async () => void started++)).rejects.toMatchObject({ code: "SHARED_STATE_UNAVAILABLE", status: 503 });
    expect(started).toBe(0);

    const store = redisRateLimitStore(shared, "test");
    // express-rate-limit initialises its store when the limiter is built: here, with Redis away.
    await store.init?.({ windowMs: 60_000 } as never);
    await expect(store.increment("client")).rejects.toBeInstanceOf(SharedStateUnavailable);

    await redis.start();
    await eventually(async () => shared.ready, 5000, "reconnected");
    expect((await store.increment("client")).totalHits).toBe(1);
    await shared.client.script("FLUSH");
    expect((await store.increment("client")).totalHits).toBe(2);
    const ttl = await shared.client.pttl(`${KEY_PREFIX}rl:test:client`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  }, 20_000);
});
