/**
 * What the replicas remember about sign-ins. The design stays stateless (any replica with the
 * secret serves any user, a restart signs no one out); the ledger only narrows what a stolen or
 * replayed token can do:
 *
 * - Refresh-token rotation with reuse detection. Each refresh token carries its sign-in (`sid`) and
 *   a generation; redeeming generation g issues g+1, and from then on only g+1 is taken. A token of
 *   an older generation is a replay (someone holds a copy): the whole sign-in is revoked, here and
 *   at Zoho (its Zoho refresh token). One grace: the generation just replaced, within seconds of its
 *   use, is taken again (the MCP SDK's client refreshes once per failed request, so two parallel
 *   requests present the same token twice).
 * - Revocation: after /revoke, the sign-in's (or that one access token's) tokens are refused until
 *   they would have expired, instead of working on until Zoho notices.
 * - Authorization codes: each is redeemed once.
 *
 * Two implementations with this one interface: MemoryLedger (one process, the default) and
 * RedisLedger (src/redis/ledger.ts, MCP_REDIS_URL: what one replica learns holds on all of them).
 * Every entry expires when what it protects does. A RedisLedger that cannot reach Redis throws
 * SharedStateUnavailable: the caller refuses the request rather than let it in unchecked.
 */
export interface SignInLedger {
  /**
   * Generation `gen` of `sid`'s refresh token is presented. "current" (or unknown: from before the
   * ledger knew the sign-in) takes it: from now on only `gen + 1` is; "grace" is the one just
   * replaced, seconds ago (answer with the current one again); "replayed" is an older one.
   */
  rotate(sid: string, gen: number): Promise<"current" | "grace" | "replayed">;
  /** Generation `gen` of `sid` was issued without a rotation (the first, for a code). */
  issued(sid: string, gen: number): Promise<void>;
  /** Undoes `rotate(sid, gen - 1)` when no token of `gen` was handed out after all (Zoho was down). */
  withdraw(sid: string, gen: number): Promise<void>;
  revokeSignIn(sid: string, untilMs: number): Promise<void>;
  revokeAccessToken(jti: string, untilMs: number): Promise<void>;
  isRevoked(sid: string, accessJti?: string): Promise<boolean>;
  /** True the first time a code (by its jti) is redeemed, false ever after, until `untilMs`. */
  redeemCode(jti: string, untilMs: number): Promise<boolean>;
}

/** How long the generation just replaced is still taken (parallel refreshes of one client). */
export const DEFAULT_REFRESH_GRACE_MS = 10_000;

/** One process's ledger, in memory, bounded (oldest entries go first), gone on restart. */
export class MemoryLedger implements SignInLedger {
  /** sid -> the one refresh generation accepted next, and when it replaced the one before. */
  private readonly generations = new Map<string, { gen: number; at: number }>();
  /** sid -> until when (epoch ms) every token of that sign-in is refused. */
  private readonly revokedSignIns = new Map<string, number>();
  /** access token jti -> until when (epoch ms) it is refused. */
  private readonly revokedAccess = new Map<string, number>();
  /** code jti -> until when (epoch ms) it would still open. */
  private readonly usedCodes = new Map<string, number>();

  constructor(
    private readonly graceMs = DEFAULT_REFRESH_GRACE_MS,
    private readonly maxEntries = 20_000,
  ) {}

  async rotate(sid: string, gen: number): Promise<"current" | "grace" | "replayed"> {
    const known = this.generations.get(sid);
    if (known === undefined || gen >= known.gen) {
      this.remember(this.generations, sid, { gen: gen + 1, at: Date.now() });
      return "current";
    }
    return gen === known.gen - 1 && Date.now() - known.at < this.graceMs ? "grace" : "replayed";
  }

  async issued(sid: string, gen: number): Promise<void> {
    if (this.generations.get(sid)?.gen !== gen) this.remember(this.generations, sid, { gen, at: Date.now() });
  }

  async withdraw(sid: string, gen: number): Promise<void> {
    if (this.generations.get(sid)?.gen === gen) this.remember(this.generations, sid, { gen: gen - 1, at: 0 });
  }

  async revokeSignIn(sid: string, untilMs: number): Promise<void> {
    this.generations.delete(sid);
    this.remember(this.revokedSignIns, sid, untilMs);
  }

  async revokeAccessToken(jti: string, untilMs: number): Promise<void> {
    this.remember(this.revokedAccess, jti, untilMs);
  }

  async isRevoked(sid: string, accessJti?: string): Promise<boolean> {
    return live(this.revokedSignIns, sid) || (accessJti !== undefined && live(this.revokedAccess, accessJti));
  }

  async redeemCode(jti: string, untilMs: number): Promise<boolean> {
    if (live(this.usedCodes, jti)) return false;
    this.remember(this.usedCodes, jti, untilMs);
    return true;
  }

  /** Insertion order is age order: re-inserting moves a key to the end, the oldest goes first. */
  private remember<T>(map: Map<string, T>, key: string, value: T): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > this.maxEntries) map.delete(map.keys().next().value!);
  }
}

function live(map: Map<string, number>, key: string): boolean {
  const until = map.get(key);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  map.delete(key);
  return false;
}
