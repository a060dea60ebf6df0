import type { Store } from "express-rate-limit";
import type { Logger } from "../log.js";
import type { SignInLedger } from "../oauth/ledger.js";
import { SharedRedis, type RedisHealth } from "./connection.js";
import { RedisLedger } from "./ledger.js";
import { redisRateLimitStore } from "./rate-limit.js";
import { RedisSemaphore } from "./semaphore.js";
import type { RedisSettings } from "./settings.js";

/**
 * What several replicas share through Redis (MCP_REDIS_URL): the sign-in ledger, Zoho's concurrency
 * cap and the sign-in endpoints' rate limits. Loaded with `await import()` only when the setting is
 * present, so a process without it (every stdio start) never loads a Redis client.
 */
export interface SharedState {
  readonly display: string;
  readonly ready: boolean;
  /** What /healthz says of Redis (connection.ts). */
  readonly health: RedisHealth;
  ledger(refreshTtlMs: number, graceMs?: number): SignInLedger;
  /** ZOHO_CONCURRENCY across the replicas; `perUser` the share one user may hold. */
  concurrency: RedisSemaphore;
  rateLimitStore(limiter: string): Store;
  ping(): Promise<number>;
  close(): Promise<void>;
}

export async function openSharedState(settings: RedisSettings, logger: Logger, options: { concurrency: number; waitMs?: number }): Promise<SharedState> {
  const redis = await SharedRedis.open(settings, logger, options.waitMs);
  const concurrency = new RedisSemaphore(redis, options.concurrency);
  await concurrency.listen();
  return {
    display: settings.display,
    get ready() {
      return redis.ready;
    },
    get health() {
      return redis.health;
    },
    ledger: (refreshTtlMs, graceMs) => new RedisLedger(redis, refreshTtlMs, graceMs),
    concurrency,
    rateLimitStore: (limiter) => redisRateLimitStore(redis, limiter),
    ping: () => redis.ping(),
    close: async () => {
      await concurrency.close();
      await redis.close();
    },
  };
}
