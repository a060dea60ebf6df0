import pLimit from "p-limit";
import type { Config } from "../config.js";
import { registerSecret, rememberAccessTokens, type Logger } from "../log.js";
import type { ToolDeps } from "../tools/types.js";
import { ZohoClient, capOf, withSharedCap, type Cap, type SharedCap, type TokenSource } from "../zoho/client.js";
import { ZohoError } from "../zoho/errors.js";
import { FieldCatalog, ModuleCatalog, RelatedListCatalog } from "../zoho/metadata.js";
import type { VerifiedSignIn } from "./provider.js";

/**
 * One user's Zoho access token, as the latest of their requests brought it. It cannot be refreshed
 * here: the MCP client refreshes through /token (which refreshes at Zoho) and sends the new one.
 */
export class UserTokens implements TokenSource {
  readonly canRefresh = false;
  /** Refreshing is the MCP client's business (through /token): never here. */
  readonly refreshes = 0;
  apiDomain: string | undefined;
  private refused: string | undefined;

  constructor(
    private token: string,
    private expiresAt: number,
  ) {
    // As the self-client's tokens are: a Zoho error that echoes the token must not carry it out.
    registerSecret(token, "access-token");
  }

  /** A newer token of the same sign-in replaces the one in use; an older one changes nothing. */
  update(token: string, expiresAt: number): void {
    registerSecret(token, "access-token");
    if (expiresAt > this.expiresAt || this.refused === this.token) {
      this.token = token;
      this.expiresAt = expiresAt;
    }
  }

  async get(): Promise<string> {
    if (this.refused === this.token || Date.now() >= this.expiresAt) throw this.refusedError(401);
    return this.token;
  }

  confirm(): void {}

  refreshMayHelp(): boolean {
    return false;
  }

  invalidate(token: string | undefined): void {
    if (token === this.token) this.refused = token;
  }

  /** Zoho has refused this token: the resource server answers 401 so the client refreshes. */
  isRefused(token: string): boolean {
    return this.refused === token;
  }

  refusedError(status: number): ZohoError {
    return new ZohoError({
      status,
      code: "INVALID_TOKEN",
      message: "Zoho no longer accepts this sign-in's access token (expired, or the sign-in was revoked).",
      hint: "Send the request again: the MCP client gets a fresh token with its refresh token. If that is refused too, sign in again.",
    });
  }
}

interface Session {
  tokens: UserTokens;
  deps: ToolDeps;
  lastUsed: number;
}

/** Sessions idle this long are dropped (their caches with them); a request rebuilds one. */
const IDLE_MS = 60 * 60_000;
const MAX_SESSIONS = 1000;

/**
 * The Zoho side of each signed-in user: their own client (their token, their API domain) and their
 * own metadata caches, so nothing one user's token fetched is served to another. Caches are keyed
 * by the sign-in (`sid`), finer than org + user: Zoho's visibility depends on the user's profile,
 * role and the scopes they consented to, and a sign-in fixes all three.
 *
 * One concurrency cap for the process (ZOHO_CONCURRENCY, what Zoho counts per org), and within it
 * each user may hold at most half of it (at least one), so one user's long walk leaves room for
 * everyone else. With MCP_REDIS_URL both hold across every replica (`sharedCap`, in Redis), around
 * this process's own.
 */
export class UserSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly processLimit: Cap;
  readonly perUser: number;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly sharedCap?: SharedCap,
  ) {
    this.processLimit = capOf(pLimit(config.concurrency));
    // Every session's live token stays redacted, and the one before it (a refresh overlaps).
    rememberAccessTokens(2 * MAX_SESSIONS);
    this.perUser = Math.max(1, Math.ceil(config.concurrency / 2));
  }

  get size(): number {
    return this.sessions.size;
  }

  depsFor(signIn: VerifiedSignIn): { deps: ToolDeps; tokens: UserTokens } {
    const now = Date.now();
    let session = this.sessions.get(signIn.sid);
    if (session) {
      session.tokens.update(signIn.zohoAccessToken, signIn.zohoExpiresAt);
      // Map order is recency order: re-inserting moves it to the end.
      this.sessions.delete(signIn.sid);
    } else {
      this.evict(now);
      session = this.create(signIn);
    }
    session.lastUsed = now;
    this.sessions.set(signIn.sid, session);
    return { deps: session.deps, tokens: session.tokens };
  }

  /** The sign-in was revoked: its Zoho client and caches go now, not when they idle out. */
  end(sid: string): void {
    this.sessions.delete(sid);
  }

  private create(signIn: VerifiedSignIn): Session {
    const tokens = new UserTokens(signIn.zohoAccessToken, signIn.zohoExpiresAt);
    // The user's own API base (their data center), fixed for the sign-in.
    const config: Config = { ...this.config, apiDomain: signIn.api, apiDomainPinned: true };
    const userLimit = capOf(pLimit(this.perUser));
    const shared = withSharedCap(this.processLimit, this.sharedCap, { key: signIn.sid, perUser: this.perUser });
    const limit: Cap = (work, signal) => userLimit(() => shared(work, signal), signal);
    const client = new ZohoClient(config, this.logger, { tokens, limit, concurrency: this.perUser });
    const deps: ToolDeps = {
      config,
      client,
      catalog: new RelatedListCatalog(client),
      fieldCatalog: new FieldCatalog(client),
      modules: new ModuleCatalog(client),
      logger: this.logger,
    };
    return { tokens, deps, lastUsed: Date.now() };
  }

  private evict(now: number): void {
    for (const [sid, session] of this.sessions) {
      if (now - session.lastUsed < IDLE_MS && this.sessions.size < MAX_SESSIONS) break;
      this.sessions.delete(sid);
    }
  }
}
