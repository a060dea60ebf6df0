import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { ZohoError } from "../zoho/errors.js";
import type { SharedRedis } from "./connection.js";
import { KEY_PREFIX, SharedStateUnavailable } from "./settings.js";

/**
 * ZOHO_CONCURRENCY across every replica: Zoho counts concurrent requests per organization, not per
 * process. A slot is a lease in a sorted set (member: lease id, score: when it lapses, in Redis's
 * own clock):
 *
 *   zcrm-mcp:zoho:inflight          every lease (at most `limit`)
 *   zcrm-mcp:zoho:inflight:{user}   one user's leases (at most `perUser`: their fair share)
 *   zcrm-mcp:zoho:released          channel: "released" (waiters may try again), "wanted" (someone waits)
 *
 * Leases last LEASE_MS and are renewed while their request runs, so a replica that dies holds its
 * slots for seconds, not forever; each set expires with its last lease. A waiter tries again when a
 * slot is freed (here, or on another replica through the channel) and at least every POLL_MAX_MS.
 * A freed slot stays with its user on this replica for LINGER_MS unless someone waits, so requests
 * that follow each other cost Redis nothing in between.
 */
export const LEASE_MS = 15_000;
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;
/** How long a slot no request uses stays with its user on this replica (see RedisSemaphore.idle). */
const LINGER_MS = 20;
/** How long after hearing of a wait no slot lingers. */
const CONTENDED_MS = 1000;
/**
 * After releasing a slot someone waits for, this replica's next request asks for one this much
 * later: the waiter, woken through the channel, gets there first. Without it the replica that
 * released, asking again at once on the same connection, would win every time.
 */
const YIELD_MS = 10;

interface Lease {
  id: string;
  /** The organization's set and the user's. */
  keys: string[];
  /** The user's share (perUser), or the organization's limit without a user. */
  share: number;
  renewedAt: number;
  linger?: NodeJS.Timeout;
}

const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  redis.call('PUBLISH', KEYS[3], 'wanted')
  return 0
end
local lease = tonumber(ARGV[4])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now + lease, ARGV[1])
  if redis.call('PTTL', KEYS[i]) < lease then redis.call('PEXPIRE', KEYS[i], lease) end
end
return 1
`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], 'XX', now + lease, ARGV[1])
  if redis.call('PTTL', KEYS[i]) < lease then redis.call('PEXPIRE', KEYS[i], lease) end
end
return 1
`;

/** Published only when a set was full: only then can anyone be waiting for this slot. */
const RELEASE = `
local full = redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if full then redis.call('PUBLISH', KEYS[3], 'released') end
return 1
`;

const ORG_KEY = `${KEY_PREFIX}zoho:inflight`;
const CHANNEL = `${KEY_PREFIX}zoho:released`;

export class RedisSemaphore {
  /** Woken when a slot may have been freed. */
  private readonly waiters = new Set<() => void>();
  private subscriber: Redis | undefined;
  /**
   * Slots this replica holds that no request uses right now, per user: for LINGER_MS the user's
   * next request takes one without asking Redis (a client's calls one after another, or a walk's
   * pages, cost no round trip each), then it is released. None linger while anyone waits.
   */
  private readonly idle = new Map<string, Lease[]>();
  /** Requests of this replica refused a slot and waiting for one. */
  private refused = 0;
  /** Until when a slot was recently wanted (a refusal was published): nothing lingers. */
  private contendedUntil = 0;
  /** Until when this replica leaves a slot it released to whoever waits for it (YIELD_MS). */
  private yieldUntil = 0;

  constructor(
    private readonly redis: SharedRedis,
    /** ZOHO_CONCURRENCY: slots across every replica. */
    readonly limit: number,
    /** Tests: how long a slot outlives a replica that stopped renewing it. */
    private readonly leaseMs = LEASE_MS,
  ) {}

  /** Listens for slots freed on other replicas (best effort: waiters also poll). */
  async listen(): Promise<void> {
    const subscriber = this.redis.client.duplicate();
    subscriber.on("error", () => undefined); // the main connection reports outages
    subscriber.on("message", (_channel: string, message: string) => {
      // Someone (here or on another replica) was refused: no slot lingers unused meanwhile.
      if (message === "wanted") {
        this.contendedUntil = Date.now() + CONTENDED_MS;
        this.releaseIdle();
      }
      this.wake();
    });
    // On every (re)connection: a subscription asked for while Redis was away would be lost.
    subscriber.on("ready", () => void subscriber.subscribe(CHANNEL).catch(() => undefined));
    this.subscriber = subscriber;
  }

  /**
   * Runs `work` holding one slot of the organization's `limit` and one of `user`'s `perUser`. With
   * no user, the organization's limit is the only one. Once `signal` aborts, a caller still waiting
   * stops asking Redis and leaves without a slot (a lease granted as it aborted goes straight back).
   */
  async run<T>(user: string | undefined, perUser: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const userKey = user === undefined ? ORG_KEY : `${ORG_KEY}:${user}`;
    const share = user === undefined ? this.limit : perUser;
    let lease = this.idle.get(userKey)?.pop();
    if (lease) {
      clearTimeout(lease.linger);
      // Renewed here when due: a chain of short requests on one lease never runs a renewal timer out.
      if (Date.now() - lease.renewedAt > this.leaseMs / 3) this.renew(lease);
    } else {
      const yieldMs = this.yieldUntil - Date.now();
      if (yieldMs > 0) await new Promise((resolve) => setTimeout(resolve, yieldMs));
      lease = { id: randomBytes(9).toString("base64url"), keys: [ORG_KEY, userKey], share, renewedAt: Date.now() };
      try {
        await this.acquire(lease, signal);
      } catch (error) {
        // No slot can be counted: no request to Zoho (whose limit is the organization's), and no retry by ky.
        if (!(error instanceof SharedStateUnavailable)) throw error;
        throw new ZohoError({
          status: 503,
          code: "SHARED_STATE_UNAVAILABLE",
          message: "no request was sent to Zoho: the concurrency cap this server shares with its other replicas lives in Redis, which cannot be reached",
          hint: "Try again in a few seconds; if it persists, the server's operator should check Redis (zoho-crm-related-mcp doctor).",
        });
      }
    }
    const held = lease;
    const renewal = setInterval(() => this.renew(held), this.leaseMs / 3);
    renewal.unref();
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      if (this.refused === 0 && Date.now() >= this.contendedUntil) this.park(userKey, held);
      else {
        this.release(held);
        this.yieldUntil = Date.now() + YIELD_MS;
      }
    }
  }

  private async acquire(lease: Lease, signal: AbortSignal | undefined): Promise<void> {
    let pause = POLL_MIN_MS;
    for (;;) {
      // Listening before asking: a release between a refusal and the wait still wakes us (and so does an abort).
      let woken!: () => void;
      const wake = new Promise<void>((resolve) => (woken = resolve));
      this.waiters.add(woken);
      signal?.addEventListener("abort", woken, { once: true });
      let refused = false;
      try {
        const granted = (await this.redis.script<number>(ACQUIRE, [...lease.keys, CHANNEL], [lease.id, this.limit, lease.share, this.leaseMs])) === 1;
        if (granted && signal?.aborted) this.release(lease);
        signal?.throwIfAborted();
        if (granted) return;
        // Refused: this replica's own idle slots go first.
        refused = true;
        this.refused++;
        this.releaseIdle();
        const timer = setTimeout(woken, pause + Math.random() * pause);
        await wake;
        clearTimeout(timer);
        signal?.throwIfAborted();
      } finally {
        this.waiters.delete(woken);
        signal?.removeEventListener("abort", woken);
        if (refused) this.refused--;
      }
      pause = Math.min(pause * 2, POLL_MAX_MS);
    }
  }

  private renew(lease: Lease): void {
    lease.renewedAt = Date.now();
    void this.redis.script(RENEW, lease.keys, [lease.id, this.leaseMs]).catch(() => undefined);
  }

  private park(userKey: string, lease: Lease): void {
    const list = this.idle.get(userKey) ?? [];
    this.idle.set(userKey, list);
    lease.linger = setTimeout(() => {
      list.splice(list.indexOf(lease), 1);
      if (list.length === 0) this.idle.delete(userKey);
      this.release(lease);
    }, LINGER_MS);
    lease.linger.unref();
    list.push(lease);
  }

  /** Not awaited by the request: a local waiter is woken once it is done. A release that cannot reach Redis lapses with its lease. */
  private release(lease: Lease): void {
    void this.redis.script(RELEASE, [...lease.keys, CHANNEL], [lease.id, this.limit, lease.share]).catch(() => undefined).finally(() => this.wake());
  }

  private releaseIdle(): void {
    for (const list of this.idle.values()) for (const lease of list) (clearTimeout(lease.linger), this.release(lease));
    this.idle.clear();
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  async close(): Promise<void> {
    this.releaseIdle();
    this.subscriber?.disconnect();
  }
}
