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
 *   zcrm-mcp:zoho:released          channel: a slot was freed, waiters may try again
 *
 * Leases last LEASE_MS and are renewed while their request runs, so a replica that dies holds its
 * slots for seconds, not forever; each set expires with its last lease. A waiter tries again when a
 * slot is freed (here, or on another replica through the channel) and at least every POLL_MAX_MS.
 */
export const LEASE_MS = 15_000;
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;

const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
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

const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', KEYS[3], '1')
return 1
`;

const ORG_KEY = `${KEY_PREFIX}zoho:inflight`;
const CHANNEL = `${KEY_PREFIX}zoho:released`;

export class RedisSemaphore {
  /** Woken when a slot may have been freed. */
  private readonly waiters = new Set<() => void>();
  private subscriber: Redis | undefined;

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
    subscriber.on("message", () => this.wake());
    // On every (re)connection: a subscription asked for while Redis was away would be lost.
    subscriber.on("ready", () => void subscriber.subscribe(CHANNEL).catch(() => undefined));
    this.subscriber = subscriber;
  }

  /**
   * Runs `work` holding one slot of the organization's `limit` and one of `user`'s `perUser`. With
   * no user, the organization's limit is the only one.
   */
  async run<T>(user: string | undefined, perUser: number, work: () => Promise<T>): Promise<T> {
    const userKey = user === undefined ? ORG_KEY : `${ORG_KEY}:${user}`;
    const keys = [ORG_KEY, userKey];
    const lease = randomBytes(9).toString("base64url");
    try {
      await this.acquire(keys, lease, user === undefined ? this.limit : perUser);
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
    const renew = setInterval(() => void this.redis.script(RENEW, keys, [lease, this.leaseMs]).catch(() => undefined), this.leaseMs / 3);
    renew.unref();
    try {
      return await work();
    } finally {
      clearInterval(renew);
      // Not awaited: the answer need not wait for the release (a local waiter is woken once it is
      // done). A release that cannot reach Redis lapses with its lease.
      void this.redis.script(RELEASE, [...keys, CHANNEL], [lease]).catch(() => undefined).finally(() => this.wake());
    }
  }

  private async acquire(keys: string[], lease: string, perUser: number): Promise<void> {
    let pause = POLL_MIN_MS;
    for (;;) {
      // Listening before asking: a release between a refusal and the wait still wakes us.
      let woken!: () => void;
      const wake = new Promise<void>((resolve) => (woken = resolve));
      this.waiters.add(woken);
      try {
        if ((await this.redis.script<number>(ACQUIRE, keys, [lease, this.limit, perUser, this.leaseMs])) === 1) return;
        const timer = setTimeout(woken, pause + Math.random() * pause);
        await wake;
        clearTimeout(timer);
      } finally {
        this.waiters.delete(woken);
      }
      pause = Math.min(pause * 2, POLL_MAX_MS);
    }
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }
}
