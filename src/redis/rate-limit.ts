import { RedisStore } from "rate-limit-redis";
import type { Store } from "express-rate-limit";
import { sha1, type SharedRedis } from "./connection.js";
import { KEY_PREFIX } from "./settings.js";

/**
 * express-rate-limit's buckets in Redis (rate-limit-redis), one per client across every replica:
 * `zcrm-mcp:rl:{limiter}:{client key}`, a counter that expires with its window.
 *
 * rate-limit-redis loads its two Lua scripts once, when the limiter is built, and keeps the
 * promise: had Redis been away at that moment, every later request would fail on the stale
 * rejection, and after a Redis restart without the scripts it reloads only on NOSCRIPT. So
 * `SCRIPT LOAD` is answered here with the script's SHA1 (no round trip), and an EVALSHA that meets
 * NOSCRIPT sends the script itself (SharedRedis.script): the store works from whenever Redis does.
 */
export function redisRateLimitStore(redis: SharedRedis, limiter: string): Store {
  const scripts = new Map<string, string>();
  return new RedisStore({
    prefix: `${KEY_PREFIX}rl:${limiter}:`,
    sendCommand: async (command: string, ...args: string[]) => {
      const verb = command.toUpperCase();
      if (verb === "SCRIPT" && args[0]?.toUpperCase() === "LOAD" && args[1] !== undefined) {
        const sha = sha1(args[1]);
        scripts.set(sha, args[1]);
        return sha;
      }
      if (verb === "EVALSHA" && args[0] !== undefined && scripts.has(args[0])) {
        const [sha, count, ...rest] = args;
        const keyCount = Number(count);
        return redis.script(scripts.get(sha!)!, rest.slice(0, keyCount), rest.slice(keyCount));
      }
      return redis.run((client) => client.call(command, ...args) as Promise<never>);
    },
  });
}
