import { randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import type { AuthorizationParams, OAuthServerProvider } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import { InvalidGrantError, InvalidTargetError, InvalidTokenError, ServerError, TemporarilyUnavailableError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import type { Logger } from "../log.js";
import { SealedClientsStore, type ClientStoreOptions } from "./clients.js";
import { PAGE_HEADERS, consentPage, errorPage } from "./pages.js";
import { MemoryLedger, type SignInLedger } from "./ledger.js";
import { Sealer, safeEqual } from "./seal.js";
import { AccountsError, authorizationUrl, exchangeCode, refreshAccessToken, revokeToken, trustedAccountsServer, zohoErrorCode, type ZohoAccountsSettings } from "./zoho-accounts.js";

/**
 * The authorization server: the SDK's handlers do the OAuth protocol (metadata, PKCE S256 check,
 * client authentication, error shapes); this provider supplies what is ours. Nothing is stored:
 *
 *   /authorize --consent page--> POST /oauth/consent --Allow--> Zoho Accounts --> /oauth/callback
 *     --> client's redirect_uri?code=SEALED --> /token --> access token SEALED, refresh token SEALED
 *
 * Every sealed blob (see seal.ts) is bound to its purpose, the issuer, and where relevant the
 * client, the browser (a cookie) and the resource `{MCP_PUBLIC_URL}/mcp`.
 */

/** A Zoho sign-in as our tokens carry it. `sid` names the sign-in: per-user caches are keyed by it. */
export interface ZohoSignIn {
  sid: string;
  /** The accounts server this user's tokens come from (their data center). */
  acc: string;
  /** The API base Zoho named for this user's org. */
  api: string;
}

/** What a verified access token tells the resource server (AuthInfo.extra.signin). */
export interface VerifiedSignIn extends ZohoSignIn {
  /** The user's Zoho access token, for their requests only. */
  zohoAccessToken: string;
  /** When that Zoho token expires (epoch ms). */
  zohoExpiresAt: number;
}

interface ConsentRequest extends Record<string, unknown> {
  step: "consent" | "zoho";
  cid: string;
  redirect_uri: string;
  challenge: string;
  state?: string;
  /** Names the cookie that binds this request to the browser it started in, and its value. */
  flow: string;
  nonce: string;
}

interface CodeClaims extends Record<string, unknown>, ZohoSignIn {
  cid: string;
  /** Names the code, for single use. */
  jti: string;
  redirect_uri: string;
  challenge: string;
  zat: string;
  zexp: number;
  zrt: string;
}

interface AccessClaims extends Record<string, unknown>, ZohoSignIn {
  cid: string;
  /** Names this access token, so /revoke can refuse it alone (ledger.ts). */
  jti?: string;
  zat: string;
  zexp: number;
}

interface RefreshClaims extends Record<string, unknown>, ZohoSignIn {
  cid: string;
  /** The rotation generation within the sign-in (ledger.ts); absent in tokens from before rotation: 0. */
  gen?: number;
  zrt: string;
}

/** Our access tokens live at most an hour, and never longer than the Zoho token inside them. */
const ACCESS_TTL_S = 3600;
/** Refresh tokens slide: each use issues a new one good for this long. */
export const REFRESH_TTL_S = 30 * 24 * 3600;
/** From the consent page to Zoho's redirect back: enough for a sign-in with two-factor. */
const FLOW_TTL_S = 15 * 60;
const CODE_TTL_S = 5 * 60;
/** A client's state travels through our consent form and Zoho's URL: bounded. */
const MAX_STATE = 2048;

export interface ProviderOptions {
  publicUrl: string;
  zoho: Omit<ZohoAccountsSettings, "redirectUri">;
  /** The API base when the user pinned one (ZOHO_API_DOMAIN, a sandbox): wins over Zoho's api_domain. */
  pinnedApiDomain: string | undefined;
  /** Zoho's api_domain for a user, checked (known Zoho API hosts only); undefined if not acceptable. */
  acceptApiDomain: (apiDomain: string | undefined, accountsServer: string) => string | undefined;
  logger: Logger;
  clients?: ClientStoreOptions;
  /** A sign-in was revoked (or its access token): drop its Zoho client and caches on this replica. */
  onSignInEnded?: (sid: string) => void;
  /** Tests: how long a just-rotated refresh token is still taken (default 10 s). */
  refreshGraceMs?: number;
  /** Where revocations, rotation and used codes are kept: this process (default) or Redis, for every replica. */
  ledger?: SignInLedger;
}

export class ZohoSignInProvider implements OAuthServerProvider {
  readonly clientsStore: SealedClientsStore;
  readonly resource: string;
  readonly consentPath = "/oauth/consent";
  readonly callbackPath = "/oauth/callback";
  private readonly zoho: ZohoAccountsSettings;
  /** Refresh rotation, revocations and used codes (in this process, or in Redis for every replica). */
  readonly ledger: SignInLedger;
  private readonly secureCookies: boolean;

  constructor(
    readonly sealer: Sealer,
    private readonly options: ProviderOptions,
  ) {
    this.resource = `${options.publicUrl}/mcp`;
    this.zoho = { ...options.zoho, redirectUri: `${options.publicUrl}${this.callbackPath}` };
    this.clientsStore = new SealedClientsStore(sealer, options.clients);
    this.secureCookies = options.publicUrl.startsWith("https:");
    this.ledger = options.ledger ?? new MemoryLedger(options.refreshGraceMs);
  }

  // ------------------------------------------------------------ /authorize: our consent page first

  /**
   * In front of the SDK's /authorize handler. The SDK sends a malformed request's error to the
   * client's redirect URI; with any registered https redirect URI that makes /authorize an open
   * redirect no person ever chose. So every parameter the SDK would complain about after the
   * redirect URI is checked here first, and a bad one gets our error page (400), never a redirect.
   * Only errors after a person's choice (Deny, Zoho's answer) go back to the client.
   */
  async checkAuthorizationRequest(req: Request, res: Response, next: () => void): Promise<void> {
    if (req.method !== "GET" && req.method !== "POST") return next();
    const params = ((req.method === "POST" ? req.body : req.query) ?? {}) as Record<string, unknown>;
    const problem = this.authorizationRequestProblem(params) ?? (await this.redirectUriProblem(params));
    if (!problem) return next();
    res.setHeader("cache-control", "no-store");
    this.showError(res, 400, "This sign-in request is not valid", `${problem}. Your MCP client sent a request this server cannot accept; nothing was sent back to it.`);
  }

  private authorizationRequestProblem(params: Record<string, unknown>): string | undefined {
    for (const name of ["client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "scope", "state", "resource"]) {
      if (params[name] !== undefined && typeof params[name] !== "string") return `${name} must be given once, as text`;
    }
    if (params.response_type !== "code") return "response_type must be code";
    if (params.code_challenge_method !== "S256") return "code_challenge_method must be S256 (plain is not accepted)";
    // RFC 7636: the S256 challenge is BASE64URL(SHA-256(verifier)), 43 characters without padding.
    if (typeof params.code_challenge !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge)) return "code_challenge must be the 43-character base64url SHA-256 of the code_verifier";
    if (typeof params.state === "string" && params.state.length > MAX_STATE) return `state must be at most ${MAX_STATE} characters`;
    if (typeof params.resource === "string" && (!URL.canParse(params.resource) || !sameResource(params.resource, this.resource))) return `resource must be ${this.resource}: this server only issues tokens for it`;
    return undefined;
  }

  /**
   * The SDK's loopback match compares parsed URLs: it lets a fragment, a user name, `0x7f.0.0.1`
   * and `..` segments through. Ours compares the text as registered, the port of a loopback URI
   * aside (RFC 6749 3.1.2, RFC 8252 7.3). An unknown client is left to the SDK's own answer.
   */
  private async redirectUriProblem(params: Record<string, unknown>): Promise<string | undefined> {
    if (typeof params.client_id !== "string" || typeof params.redirect_uri !== "string") return undefined;
    const client = await this.clientsStore.getClient(params.client_id);
    if (!client) return undefined;
    const requested = params.redirect_uri;
    if (client.redirect_uris.some((registered) => redirectUriMatches(requested, registered))) return undefined;
    return "redirect_uri is not one this client registered (it must match exactly; only a loopback redirect URI's port may differ)";
  }

  /**
   * PKCE (RFC 7636 4.1): a code_verifier is 43 to 128 characters of [A-Za-z0-9-._~]. The SDK only
   * hashes what it gets, so a short, guessable verifier would pass if its challenge matched.
   */
  checkTokenRequest(req: Request, res: Response, next: () => void): void {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.grant_type === "authorization_code" && body.code_verifier !== undefined && (typeof body.code_verifier !== "string" || !/^[A-Za-z0-9._~-]{43,128}$/.test(body.code_verifier))) {
      res.status(400).set("cache-control", "no-store").json({ error: "invalid_request", error_description: "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)" });
      return;
    }
    next();
  }

  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    // checkAuthorizationRequest has refused a foreign resource already; never into the redirect path.
    if (params.resource && !sameResource(params.resource.href, this.resource)) {
      return this.showError(res, 400, "This sign-in request is not valid", `resource must be ${this.resource}`);
    }
    const flow = randomBytes(9).toString("base64url");
    const nonce = randomBytes(18).toString("base64url");
    const request: ConsentRequest = {
      step: "consent",
      cid: client.client_id,
      redirect_uri: params.redirectUri,
      challenge: params.codeChallenge,
      ...(params.state !== undefined ? { state: params.state } : {}),
      flow,
      nonce,
    };
    const sealed = await this.sealer.seal("consent", request, { ttlSeconds: FLOW_TTL_S });
    this.setFlowCookie(res, flow, nonce);
    res.status(200).set(PAGE_HEADERS).send(
      consentPage({
        clientName: client.client_name || hostOf(client.client_uri ?? client.redirect_uris[0] ?? client.client_id),
        // A metadata-document client declares its own name; the host serving the document is what vouches for it.
        ...(/^https?:\/\//i.test(client.client_id) ? { clientHost: hostOf(client.client_id) } : {}),
        redirectTarget: originOf(params.redirectUri),
        request: sealed,
        action: this.consentPath,
      }),
    );
  }

  /** POST /oauth/consent: Allow goes on to Zoho, Deny back to the client with access_denied. */
  async handleConsent(req: Request, res: Response): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const request = typeof body.request === "string" ? await this.sealer.open<ConsentRequest>("consent", body.request) : undefined;
    if (!request || request.step !== "consent") return this.showError(res, 400, "This sign-in has expired", "Start again from your MCP client.");
    // CSRF: the form only counts when posted from the browser the page was shown in.
    if (!this.flowCookieMatches(req, request)) return this.showError(res, 403, "Sign-in refused", "This page was not opened in this browser. Start again from your MCP client.");
    if (body.choice !== "allow") return this.finishWithError(res, request, "access_denied", "the user denied access");
    const state = await this.sealer.seal("consent", { ...request, step: "zoho" }, { ttlSeconds: FLOW_TTL_S });
    res.redirect(302, authorizationUrl(this.zoho, state));
  }

  // ------------------------------------------------------------ /oauth/callback: Zoho's redirect

  async handleCallback(req: Request, res: Response): Promise<void> {
    const query = new URLSearchParams(req.url.split("?")[1] ?? "");
    const stateText = query.get("state");
    const request = stateText ? await this.sealer.open<ConsentRequest>("consent", stateText) : undefined;
    if (!request || request.step !== "zoho") return this.showError(res, 400, "This sign-in has expired", "Start again from your MCP client.");
    // Login CSRF: Zoho's answer is only taken in the browser that gave consent.
    if (!this.flowCookieMatches(req, request)) return this.showError(res, 403, "Sign-in refused", "This sign-in was started in another browser. Start again from your MCP client.");
    this.clearFlowCookie(res, request.flow);

    const zohoError = query.get("error");
    if (zohoError) return this.finishWithError(res, request, "access_denied", `Zoho sign-in ended: ${zohoErrorCode(zohoError)}`);
    const code = query.get("code");
    if (!code) return this.finishWithError(res, request, "access_denied", "Zoho sent no code");
    // The code (and our client secret with it) goes only to a Zoho accounts host.
    const accountsServer = trustedAccountsServer(query.get("accounts-server"), this.zoho.accountsUrl);
    if (!accountsServer) {
      this.options.logger.log("warning", "sign-in refused: the callback named an accounts-server that is not a Zoho accounts host");
      return this.finishWithError(res, request, "access_denied", "the accounts-server is not a Zoho accounts host");
    }

    let grant;
    try {
      grant = await exchangeCode(this.zoho, accountsServer, code);
    } catch (error) {
      const reason = error instanceof AccountsError ? error.code : "error";
      this.options.logger.log("warning", `sign-in failed at ${accountsServer}: ${reason}`);
      return this.finishWithError(res, request, reason === "temporarily_unavailable" ? "temporarily_unavailable" : "access_denied", `Zoho refused the sign-in (${reason})`);
    }
    if (!grant.refreshToken) return this.finishWithError(res, request, "server_error", "Zoho issued no refresh token");
    const api = this.options.pinnedApiDomain ?? this.options.acceptApiDomain(grant.apiDomain, accountsServer);
    if (!api) {
      void revokeToken(this.zoho, accountsServer, grant.refreshToken).catch(() => undefined);
      return this.finishWithError(res, request, "access_denied", "Zoho named an API domain that is not a Zoho API host");
    }
    const claims: CodeClaims = {
      cid: request.cid,
      redirect_uri: request.redirect_uri,
      challenge: request.challenge,
      jti: randomBytes(12).toString("base64url"),
      sid: randomBytes(12).toString("base64url"),
      acc: accountsServer,
      api,
      zat: grant.accessToken,
      zexp: Date.now() + grant.expiresInSeconds * 1000,
      zrt: grant.refreshToken,
    };
    const sealedCode = await this.sealer.seal("code", claims, { ttlSeconds: CODE_TTL_S, audience: this.resource });
    const target = new URL(request.redirect_uri);
    target.searchParams.set("code", sealedCode);
    if (request.state !== undefined) target.searchParams.set("state", request.state);
    target.searchParams.set("iss", this.sealer.issuer);
    res.redirect(302, target.href);
  }

  // ------------------------------------------------------------ /token

  async challengeForAuthorizationCode(client: OAuthClientInformationFull, authorizationCode: string): Promise<string> {
    return (await this.openCode(client, authorizationCode)).challenge;
  }

  async exchangeAuthorizationCode(client: OAuthClientInformationFull, authorizationCode: string, _codeVerifier?: string, redirectUri?: string, resource?: URL): Promise<OAuthTokens> {
    // The SDK's handler has checked the code_verifier against the challenge by now.
    const code = await this.openCode(client, authorizationCode);
    // RFC 6749 4.1.3: identical to the authorization request's (the loopback port was free there, not here).
    if (redirectUri !== undefined && redirectUri !== code.redirect_uri) throw new InvalidGrantError("redirect_uri does not match the authorization request");
    if (resource && !sameResource(resource.href, this.resource)) throw new InvalidTargetError(`this server only issues tokens for ${this.resource}`);
    // Single use, on every replica that shares the ledger.
    if (!(await this.ledger.redeemCode(code.jti, (code.exp ?? 0) * 1000))) {
      // RFC 6749 4.1.2: a code used twice was copied; what was issued for it is revoked.
      await this.endSignIn(code, "its authorization code was used twice");
      throw new InvalidGrantError("authorization code already used");
    }
    const signIn: ZohoSignIn = { sid: code.sid, acc: code.acc, api: code.api };
    await this.ledger.issued(signIn.sid, 0);
    return this.issue(client.client_id, signIn, code.zat, code.zexp, code.zrt, 0);
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, _scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    const claims = await this.sealer.open<RefreshClaims>("refresh", refreshToken, { audience: this.resource });
    if (!claims || !safeEqual(claims.cid, client.client_id)) throw new InvalidGrantError("refresh token is not valid");
    if (resource && !sameResource(resource.href, this.resource)) throw new InvalidTargetError(`this server only issues tokens for ${this.resource}`);
    if (await this.ledger.isRevoked(claims.sid)) throw new InvalidGrantError("this sign-in was revoked: sign in again");
    // Rotation: each refresh token is good once. An older generation than the ledger handed out
    // last is a copy in someone else's hands (or the client lost the newer one): end the sign-in.
    // The next generation is taken in the same step, before the request to Zoho, so a later use of
    // the same token (here or on another replica) counts as a reuse. Within the grace this is the
    // current generation already: the answer is another token of it.
    const gen = typeof claims.gen === "number" ? claims.gen : 0;
    const seen = await this.ledger.rotate(claims.sid, gen);
    if (seen === "replayed") {
      await this.endSignIn(claims, "an already used refresh token was presented again");
      throw new InvalidGrantError("refresh token already used: the sign-in is revoked, sign in again");
    }
    let grant;
    try {
      grant = await refreshAccessToken(this.zoho, claims.acc, claims.zrt);
    } catch (error) {
      // Nothing was issued: the client may try the same token again.
      if (seen === "current") await this.ledger.withdraw(claims.sid, gen + 1).catch(() => undefined);
      if (error instanceof AccountsError && error.code === "temporarily_unavailable") throw new TemporarilyUnavailableError(error.message);
      // invalid_code: revoked at Zoho (by /revoke, the user, or an admin): sign in again.
      throw new InvalidGrantError(`Zoho no longer accepts this sign-in (${error instanceof AccountsError ? error.code : "error"}): sign in again`);
    }
    const signIn: ZohoSignIn = { sid: claims.sid, acc: claims.acc, api: this.options.pinnedApiDomain ?? this.options.acceptApiDomain(grant.apiDomain, claims.acc) ?? claims.api };
    return this.issue(client.client_id, signIn, grant.accessToken, Date.now() + grant.expiresInSeconds * 1000, claims.zrt, gen + 1);
  }

  private async issue(clientId: string, signIn: ZohoSignIn, zohoAccessToken: string, zohoExpiresAt: number, zohoRefreshToken: string, gen: number): Promise<OAuthTokens> {
    // A minute short of Zoho's own expiry, so our token never outlives the Zoho token inside it.
    const ttl = Math.max(60, Math.min(ACCESS_TTL_S, Math.floor((zohoExpiresAt - Date.now()) / 1000) - 60));
    const access: AccessClaims = { cid: clientId, ...signIn, jti: randomBytes(12).toString("base64url"), zat: zohoAccessToken, zexp: zohoExpiresAt };
    const refresh: RefreshClaims = { cid: clientId, ...signIn, gen, zrt: zohoRefreshToken };
    return {
      access_token: await this.sealer.seal("access", access, { ttlSeconds: ttl, audience: this.resource }),
      token_type: "Bearer",
      expires_in: ttl,
      refresh_token: await this.sealer.seal("refresh", refresh, { ttlSeconds: REFRESH_TTL_S, audience: this.resource }),
    };
  }

  // ------------------------------------------------------------ /mcp and /revoke

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const claims = await this.sealer.open<AccessClaims>("access", token, { audience: this.resource });
    // A ledger that cannot answer (Redis unreachable) throws SharedStateUnavailable: refused, never let in.
    if (!claims || typeof claims.exp !== "number" || (await this.ledger.isRevoked(claims.sid, claims.jti))) throw new InvalidTokenError("the access token is not valid (expired, revoked, or not issued by this server)");
    const signin: VerifiedSignIn = { sid: claims.sid, acc: claims.acc, api: claims.api, zohoAccessToken: claims.zat, zohoExpiresAt: claims.zexp };
    return { token, clientId: claims.cid, scopes: [], expiresAt: claims.exp, resource: new URL(this.resource), extra: { signin } };
  }

  /**
   * RFC 7009. A refresh token: its Zoho refresh token is revoked at Zoho, which also ends every Zoho
   * access token issued from it, so the sign-in's access tokens stop working at Zoho as well. An
   * access token alone: its Zoho access token is revoked. Unknown tokens: nothing to do (200).
   */
  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const refresh = await this.sealer.open<RefreshClaims>("refresh", request.token, { audience: this.resource });
    const access = refresh ? undefined : await this.sealer.open<AccessClaims>("access", request.token, { audience: this.resource });
    const claims = refresh ?? access;
    if (!claims || !safeEqual(claims.cid, client.client_id)) return;
    // Refused at once by every replica that shares the ledger (only this one without MCP_REDIS_URL;
    // the others then learn it from Zoho's refusal).
    const recorded = (
      refresh ? this.ledger.revokeSignIn(refresh.sid, Date.now() + REFRESH_TTL_S * 1000) : access?.jti ? this.ledger.revokeAccessToken(access.jti, (access.exp ?? 0) * 1000) : Promise.resolve()
    ).then(() => undefined, (error: unknown) => error);
    this.options.onSignInEnded?.(claims.sid);
    try {
      await revokeToken(this.zoho, claims.acc, refresh ? refresh.zrt : access!.zat);
    } catch (error) {
      throw new ServerError(`could not revoke the sign-in at Zoho: ${(error as Error).message}`);
    }
    // Revoked at Zoho; a ledger that could not record it (Redis away) makes the client try again.
    const failed = await recorded;
    if (failed) throw failed;
  }

  /** Revokes a whole sign-in: refused by the ledger (every replica with Redis), its Zoho refresh token revoked at Zoho. */
  private async endSignIn(claims: { sid: string; acc: string; zrt: string }, why: string): Promise<void> {
    const recorded = this.ledger.revokeSignIn(claims.sid, Date.now() + REFRESH_TTL_S * 1000).then(() => undefined, (error: unknown) => error);
    this.options.onSignInEnded?.(claims.sid);
    this.options.logger.log("warning", `sign-in revoked: ${why}`);
    try {
      await revokeToken(this.zoho, claims.acc, claims.zrt);
    } catch (error) {
      this.options.logger.log("warning", `could not revoke the sign-in at Zoho: ${error instanceof AccountsError ? error.code : "error"}`);
    }
    const failed = await recorded;
    if (failed) throw failed;
  }

  // ------------------------------------------------------------ helpers

  private async openCode(client: OAuthClientInformationFull, code: string): Promise<CodeClaims & { exp?: number }> {
    const claims = await this.sealer.open<CodeClaims>("code", code, { audience: this.resource });
    if (!claims || !safeEqual(claims.cid, client.client_id)) throw new InvalidGrantError("authorization code is not valid");
    return claims;
  }

  /** Ends the flow at the client's redirect URI with an OAuth error (RFC 6749 4.1.2.1). */
  private finishWithError(res: Response, request: ConsentRequest, error: string, description: string): void {
    const target = new URL(request.redirect_uri);
    target.searchParams.set("error", error);
    target.searchParams.set("error_description", description);
    if (request.state !== undefined) target.searchParams.set("state", request.state);
    target.searchParams.set("iss", this.sealer.issuer);
    res.redirect(302, target.href);
  }

  showError(res: Response, status: number, title: string, message: string): void {
    res.status(status).set(PAGE_HEADERS).send(errorPage(title, message));
  }

  private cookieName(flow: string): string {
    return `${this.secureCookies ? "__Host-" : ""}zcrm_flow_${flow}`;
  }

  private setFlowCookie(res: Response, flow: string, nonce: string): void {
    res.cookie(this.cookieName(flow), this.sealer.mac(nonce), { httpOnly: true, sameSite: "lax", secure: this.secureCookies, path: "/", maxAge: FLOW_TTL_S * 1000 });
  }

  private clearFlowCookie(res: Response, flow: string): void {
    res.clearCookie(this.cookieName(flow), { httpOnly: true, sameSite: "lax", secure: this.secureCookies, path: "/" });
  }

  private flowCookieMatches(req: Request, request: ConsentRequest): boolean {
    const value = readCookie(req.headers.cookie, this.cookieName(request.flow));
    return value !== undefined && safeEqual(value, this.sealer.mac(request.nonce));
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

/** `http://localhost`, `http://127.0.0.1` or `http://[::1]` as written, with any port: what RFC 8252 7.3 lets vary. */
const LOOPBACK_REDIRECT = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?(?=[/?]|$)/;

/** A requested redirect URI against a registered one: the same text, or loopback ones differing in the port alone. */
export function redirectUriMatches(requested: string, registered: string): boolean {
  if (requested === registered) return true;
  const a = LOOPBACK_REDIRECT.exec(requested);
  const b = LOOPBACK_REDIRECT.exec(registered);
  return a !== null && b !== null && a[1] === b[1] && requested.slice(a[0].length) === registered.slice(b[0].length);
}

/** Resource indicators compare as the same URL, a trailing slash and a fragment aside. */
function sameResource(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/#.*$/, "").replace(/\/$/, "");
  return norm(a) === norm(b);
}

function originOf(uri: string): string {
  const url = new URL(uri);
  return url.origin !== "null" ? url.origin : `${url.protocol}//${url.host}`;
}

function hostOf(uri: string): string {
  return URL.canParse(uri) ? new URL(uri).host || uri : uri;
}
