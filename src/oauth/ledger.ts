/**
 * What one replica remembers about sign-ins, in memory, bounded, best effort. The design stays
 * stateless (any replica with the secret serves any user, a restart signs no one out); this ledger
 * only narrows what a stolen or replayed token can do on the replica that sees it:
 *
 * - Refresh-token rotation with reuse detection. Each refresh token carries its sign-in (`sid`) and
 *   a generation; redeeming generation g issues g+1, and this replica then takes only g+1. A token
 *   of an older generation is a replay (someone holds a copy): the whole sign-in is revoked, here
 *   and at Zoho (its Zoho refresh token), which ends it on every replica from then on.
 * - Revocation: after /revoke, the sign-in's (or that one access token's) tokens are refused here
 *   until they would have expired, instead of working on until Zoho notices.
 *
 * Another replica that never saw the newer generation (or the /revoke) still takes the older token
 * until the Zoho refresh token behind it is revoked: see docs/remote-oauth.md.
 */
export class SignInLedger {
  /** sid -> the one refresh generation this replica accepts next. */
  private readonly generations = new Map<string, number>();
  /** sid -> until when (epoch ms) every token of that sign-in is refused. */
  private readonly revokedSignIns = new Map<string, number>();
  /** access token jti -> until when (epoch ms) it is refused. */
  private readonly revokedAccess = new Map<string, number>();

  constructor(private readonly maxEntries = 20_000) {}

  /** The generation this replica expects for `sid`, if it has seen the sign-in. */
  expected(sid: string): number | undefined {
    return this.generations.get(sid);
  }

  /** Generation `gen` of `sid` was issued: from now on only it is accepted here. */
  issued(sid: string, gen: number): void {
    this.remember(this.generations, sid, gen);
  }

  /** Undoes `issued(sid, gen)` when no token of `gen` was handed out after all (Zoho was down). */
  withdraw(sid: string, gen: number, previous: number): void {
    if (this.generations.get(sid) === gen) this.remember(this.generations, sid, previous);
  }

  revokeSignIn(sid: string, untilMs: number): void {
    this.generations.delete(sid);
    this.remember(this.revokedSignIns, sid, untilMs);
  }

  revokeAccessToken(jti: string, untilMs: number): void {
    this.remember(this.revokedAccess, jti, untilMs);
  }

  isRevoked(sid: string, accessJti?: string): boolean {
    return live(this.revokedSignIns, sid) || (accessJti !== undefined && live(this.revokedAccess, accessJti));
  }

  /** Insertion order is age order: re-inserting moves a key to the end, the oldest goes first. */
  private remember(map: Map<string, number>, key: string, value: number): void {
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
