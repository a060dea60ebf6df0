import { DEFAULT_REFRESH_GRACE_MS, type SignInLedger } from "../oauth/ledger.js";
import type { SharedRedis } from "./connection.js";
import { KEY_PREFIX } from "./settings.js";

/**
 * The sign-in ledger (src/oauth/ledger.ts) in Redis, shared by every replica:
 *
 *   zcrm-mcp:signin:{sid}:revoked   "1", expires when the sign-in's last refresh token could
 *   zcrm-mcp:access:{jti}:revoked   "1", expires with that access token
 *   zcrm-mcp:signin:{sid}:rotation  hash {gen, at}: the generation taken next; expires with the refresh token
 *   zcrm-mcp:code:{jti}             "1", SET NX: the code was redeemed; expires with the code
 *
 * Rotation is one Lua script, so two replicas presented the same refresh token at once cannot both
 * take it; its clock is Redis's own (TIME), so replicas whose clocks differ agree on the grace.
 *
 * The standing of a sign-in ("not revoked") is kept here for STANDING_MS, so a busy client costs
 * Redis one lookup a second, and a revocation on another replica is refused here within that. What
 * this replica revokes itself is refused at once.
 */
export const STANDING_MS = 1000;

const ROTATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local presented = tonumber(ARGV[1])
local known = redis.call('HMGET', KEYS[1], 'gen', 'at')
local gen = tonumber(known[1])
if gen == nil or presented >= gen then
  redis.call('HSET', KEYS[1], 'gen', presented + 1, 'at', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 'current'
end
if presented == gen - 1 and now - tonumber(known[2]) < tonumber(ARGV[2]) then return 'grace' end
return 'replayed'
`;

const ISSUED = `
if tonumber(redis.call('HGET', KEYS[1], 'gen')) ~= tonumber(ARGV[1]) then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[1], 'gen', ARGV[1], 'at', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

const WITHDRAW = `
if tonumber(redis.call('HGET', KEYS[1], 'gen')) == tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'gen', tonumber(ARGV[1]) - 1, 'at', 0)
end
return 1
`;

export class RedisLedger implements SignInLedger {
  /** key -> when the answer "not revoked" was fetched (epoch ms); revoked keys -> until when. */
  private readonly standing = new Map<string, { ok: boolean; until: number }>();

  constructor(
    private readonly redis: SharedRedis,
    /** How long a refresh token lives: the rotation record lives as long. */
    private readonly refreshTtlMs: number,
    private readonly graceMs = DEFAULT_REFRESH_GRACE_MS,
  ) {}

  rotate(sid: string, gen: number): Promise<"current" | "grace" | "replayed"> {
    return this.redis.script(ROTATE, [rotationKey(sid)], [gen, this.graceMs, this.refreshTtlMs]);
  }

  async issued(sid: string, gen: number): Promise<void> {
    await this.redis.script(ISSUED, [rotationKey(sid)], [gen, this.refreshTtlMs]);
  }

  async withdraw(sid: string, gen: number): Promise<void> {
    await this.redis.script(WITHDRAW, [rotationKey(sid)], [gen]);
  }

  async revokeSignIn(sid: string, untilMs: number): Promise<void> {
    this.remember(signInKey(sid), false, untilMs);
    await this.redis.run(async (client) => {
      // A transaction reports each command's failure (say, OOM under noeviction) in its answer, not by throwing.
      const failed = (await client.multi().set(signInKey(sid), "1", "PXAT", untilMs).del(rotationKey(sid)).exec())?.find(([error]) => error);
      if (failed) throw failed[0];
    });
  }

  async revokeAccessToken(jti: string, untilMs: number): Promise<void> {
    if (untilMs <= Date.now()) return;
    this.remember(accessKey(jti), false, untilMs);
    await this.redis.run((client) => client.set(accessKey(jti), "1", "PXAT", untilMs));
  }

  async isRevoked(sid: string, accessJti?: string): Promise<boolean> {
    const keys = accessJti === undefined ? [signInKey(sid)] : [signInKey(sid), accessKey(accessJti)];
    const now = Date.now();
    const known = keys.map((key) => this.standing.get(key));
    if (known.some((k) => k && !k.ok && k.until > now)) return true;
    if (known.every((k) => k?.ok && k.until > now)) return false;
    const found = await this.redis.run((client) => client.exists(...keys));
    if (found > 0) return true;
    for (const key of keys) this.remember(key, true, now + STANDING_MS);
    return false;
  }

  async redeemCode(jti: string, untilMs: number): Promise<boolean> {
    // A code past its expiry no longer opens anyway; the key must still be set with some life.
    const ttl = Math.max(1000, untilMs - Date.now());
    return (await this.redis.run((client) => client.set(codeKey(jti), "1", "PX", ttl, "NX"))) === "OK";
  }

  private remember(key: string, ok: boolean, until: number): void {
    this.standing.delete(key);
    this.standing.set(key, { ok, until });
    // Bounded: the oldest answers go first (a Map iterates in insertion order).
    while (this.standing.size > 20_000) this.standing.delete(this.standing.keys().next().value!);
  }
}

const signInKey = (sid: string) => `${KEY_PREFIX}signin:${sid}:revoked`;
const rotationKey = (sid: string) => `${KEY_PREFIX}signin:${sid}:rotation`;
const accessKey = (jti: string) => `${KEY_PREFIX}access:${jti}:revoked`;
const codeKey = (jti: string) => `${KEY_PREFIX}code:${jti}`;
