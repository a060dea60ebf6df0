import { createHash, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { ipKeyGenerator, rateLimit as rateLimiter } from "express-rate-limit";
import { authorizationHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/authorize.js";
import { metadataHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/metadata.js";
import { clientRegistrationHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/register.js";
import { revocationHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/revoke.js";
import { tokenHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/token.js";
import { createOAuthMetadata } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { ConfigError, type Config } from "../config.js";
import { apiDomainAccepted } from "../zoho/auth.js";
import { registerSecret, type Logger } from "../log.js";
import { weakBase64Text, weakBytes } from "../secret-strength.js";
import type { ToolDeps } from "../tools/types.js";
import { withRequester } from "./client-documents.js";
import type { ClientStoreOptions } from "./clients.js";
import type { SharedState } from "../redis/index.js";
import { SharedStateUnavailable } from "../redis/settings.js";
import { REFRESH_TTL_S, ZohoSignInProvider, type VerifiedSignIn } from "./provider.js";
import { Sealer } from "./seal.js";
import { UserSessions } from "./sessions.js";

/**
 * Per-user sign-in over HTTP (`--http --oauth`): the authorization server's endpoints (the SDK's
 * Express handlers around our provider) and the bearer check in front of /mcp. The MCP transport
 * (src/transports/http.ts) hands us the paths below and asks `authenticate` for every /mcp request.
 */

export interface SignInSettings {
  /** MCP_PUBLIC_URL, without a trailing slash; undefined in demo mode until the port is known. */
  publicUrl: string | undefined;
  /** MCP_OAUTH_SECRET, decoded. */
  secret: Uint8Array;
  /** Tests: serve Client ID Metadata Documents from 127.0.0.1 over http. */
  clients?: ClientStoreOptions;
  /** MCP_TRUST_PROXY, as Express's "trust proxy" takes it: a hop count (0: none), or addresses/CIDRs/keywords. */
  trustProxy?: number | string[];
  /** Tests: how long a just-rotated refresh token is still taken (default 10 s). */
  refreshGraceMs?: number;
  /** Tests: the rate limits (false: off; numbers: per window, see RATE_LIMITS). */
  rateLimit?: false | Partial<RateLimits>;
  /**
   * MCP_REDIS_URL: the ledger, Zoho's concurrency cap and the rate limits shared by every replica.
   * Without it they are this process's own.
   */
  shared?: SharedState;
}

/**
 * Requests per window. Per client address (as MCP_TRUST_PROXY lets us see it); /token also per
 * address and client_id, so one client hammering /token (say, from behind the same NAT) spends its
 * own share and not everyone's. Generous: a person signs in rarely, a client refreshes hourly.
 */
export interface RateLimits {
  /** /authorize, per 15 minutes. */
  authorize: number;
  /** /token per address and client_id, per 15 minutes. */
  token: number;
  /** /token per address, all clients together, per 15 minutes. */
  tokenPerAddress: number;
  /** /register, per hour. */
  register: number;
  /** /revoke, per 15 minutes. */
  revoke: number;
}

const RATE_LIMITS: RateLimits = { authorize: 300, token: 300, tokenPerAddress: 3000, register: 100, revoke: 300 };

/**
 * MCP_TRUST_PROXY: which peers may say, in X-Forwarded-For, who the client is. Unset: nobody. Not
 * even loopback by default: `ssh -L`, `kubectl port-forward` or socat also connect from 127.0.0.1,
 * and through them anyone could name themselves anew on every request, past the rate limits.
 * Behind a reverse proxy, name it (`loopback` for one on this machine, or its address or CIDR,
 * comma-separated) or the number of proxy hops in front of the server; otherwise every client
 * looks like the proxy and shares one rate-limit bucket.
 */
export function parseTrustProxy(raw: string | undefined): number | string[] {
  const text = raw?.trim() ?? "";
  if (text === "") return 0;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 10) throw new ConfigError("MCP_TRUST_PROXY must be a hop count from 0 to 10, or addresses/CIDRs of your proxies, e.g. 10.0.0.0/8");
    return hops;
  }
  const entries = text.split(",").map((e) => e.trim()).filter((e) => e !== "");
  for (const entry of entries) {
    if (["loopback", "linklocal", "uniquelocal"].includes(entry)) continue;
    const [address, prefix, extra] = entry.split("/");
    const family = isIP(address ?? "");
    const maxPrefix = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError(`MCP_TRUST_PROXY: "${entry.slice(0, 60)}" is not an address, a CIDR or loopback/linklocal/uniquelocal; use a hop count (e.g. 1) or your proxies' addresses, e.g. 10.0.0.0/8`);
    }
    // 0.0.0.0/0 believes every client's own X-Forwarded-For: the rate limits would count nothing.
    if (prefix !== undefined && Number(prefix) < (family === 4 ? 8 : 7)) {
      throw new ConfigError(`MCP_TRUST_PROXY: "${entry}" would trust X-Forwarded-For from a large part of the internet (any client could pick its own address); name your proxies' addresses, a CIDR of /${family === 4 ? 8 : 7} or narrower, or a hop count`);
    }
  }
  return entries;
}

/** Reads MCP_PUBLIC_URL and MCP_OAUTH_SECRET. In demo mode both may be left out. */
export function loadSignInSettings(env: NodeJS.ProcessEnv, options: { demo: boolean }): SignInSettings {
  const rawUrl = env.MCP_PUBLIC_URL?.trim();
  let publicUrl: string | undefined;
  if (rawUrl) {
    const url = URL.canParse(rawUrl) ? new URL(rawUrl) : undefined;
    if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password || url.pathname.replace(/\/+$/, "") !== "") {
      throw new ConfigError("MCP_PUBLIC_URL must be the origin clients reach, such as https://crm-mcp.example.com (no user name or password, path, query or fragment)");
    }
    if (url.protocol !== "https:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
      throw new ConfigError("MCP_PUBLIC_URL must use https (http only for localhost): tokens and Zoho's sign-in travel through it");
    }
    publicUrl = url.origin;
  } else if (!options.demo) {
    throw new ConfigError("MCP_PUBLIC_URL is missing: --oauth needs the base URL clients reach, e.g. https://crm-mcp.example.com");
  }

  const rawSecret = env.MCP_OAUTH_SECRET?.trim();
  let secret: Uint8Array;
  if (rawSecret) {
    registerSecret(rawSecret);
    const decoded = /^[A-Za-z0-9+/_-]+={0,2}$/.test(rawSecret) ? Buffer.from(rawSecret, "base64") : Buffer.alloc(0);
    if (decoded.length < 32) throw new ConfigError("MCP_OAUTH_SECRET must be base64 that decodes to at least 32 bytes, e.g. the output of: openssl rand -base64 32");
    // Anyone holding a registered client_id can test guesses at the secret offline: it must be random.
    const weakness = weakBase64Text(rawSecret) ?? weakBytes(decoded);
    if (weakness) throw new ConfigError(`MCP_OAUTH_SECRET is not random enough (${weakness}); make one with: openssl rand -base64 32`);
    secret = new Uint8Array(decoded);
  } else if (options.demo) {
    // Demo only: tokens die with the process, which is what a demo wants.
    secret = new Uint8Array(randomBytes(32));
  } else {
    throw new ConfigError("MCP_OAUTH_SECRET is missing: --oauth needs a secret that seals the tokens it issues, e.g. the output of: openssl rand -base64 32");
  }
  return { publicUrl, secret, trustProxy: parseTrustProxy(env.MCP_TRUST_PROXY) };
}

/** The paths the authorization server answers (everything but /mcp and /healthz). */
const OWNED_PATHS = new Set([
  "/.well-known/oauth-authorization-server",
  "/.well-known/oauth-protected-resource",
  "/.well-known/oauth-protected-resource/mcp",
  "/authorize",
  "/token",
  "/register",
  "/revoke",
  "/oauth/consent",
  "/oauth/callback",
]);

export class SignInHttp {
  readonly sessions: UserSessions;
  private app: express.Express | undefined;
  private provider: ZohoSignInProvider | undefined;
  private metadataUrl = "";

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly settings: SignInSettings,
  ) {
    if (config.auth.kind !== "signin") throw new ConfigError("--oauth needs ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET of a Zoho server-based client");
    this.sessions = new UserSessions(config, logger, settings.shared?.concurrency);
  }

  /** The public URL (issuer), once known. */
  get publicUrl(): string {
    return this.provider?.sealer.issuer ?? "";
  }

  /** Called once the server listens: `origin` is where it is bound, the issuer unless MCP_PUBLIC_URL says otherwise. */
  ready(origin: string): void {
    const auth = this.config.auth;
    if (auth.kind !== "signin") return;
    const publicUrl = this.settings.publicUrl ?? origin;
    const sealer = new Sealer(this.settings.secret, publicUrl);
    const provider = new ZohoSignInProvider(sealer, {
      publicUrl,
      zoho: { clientId: auth.clientId, clientSecret: auth.clientSecret, accountsUrl: this.config.accountsUrl, timeoutMs: this.config.timeoutMs },
      pinnedApiDomain: this.config.apiDomainPinned ? this.config.apiDomain : undefined,
      // The same rule as the self-client's: an https Zoho API host (a loopback one only beside a loopback accounts server).
      acceptApiDomain: (apiDomain, accountsServer) =>
        apiDomain && apiDomainAccepted(apiDomain, { accountsUrl: accountsServer, apiDomain: this.config.apiDomain, apiDomainPinned: false }) ? apiDomain : undefined,
      logger: this.logger,
      onSignInEnded: (sid) => this.sessions.end(sid),
      ...(this.settings.refreshGraceMs !== undefined ? { refreshGraceMs: this.settings.refreshGraceMs } : {}),
      ...(this.settings.clients ? { clients: this.settings.clients } : {}),
      ...(this.settings.shared ? { ledger: this.settings.shared.ledger(REFRESH_TTL_S * 1000, this.settings.refreshGraceMs) } : {}),
    });
    this.provider = provider;
    this.metadataUrl = `${publicUrl}/.well-known/oauth-protected-resource/mcp`;
    this.app = buildApp(provider, publicUrl, this.logger, this.settings.rateLimit, this.settings.trustProxy ?? 0, this.settings.shared);
  }

  owns(path: string): boolean {
    return OWNED_PATHS.has(path);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.app) throw new Error("sign-in endpoints used before the server was ready");
    this.app(req as Request, res as Response);
  }

  /**
   * The bearer check in front of /mcp: the deps of the user the token names, or undefined after
   * answering 401 (RFC 6750 / RFC 9728: the challenge names where to discover how to sign in).
   */
  async authenticate(req: IncomingMessage, res: ServerResponse): Promise<ToolDeps | undefined> {
    const provider = this.provider;
    if (!provider) throw new Error("sign-in used before the server was ready");
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!req.headers.authorization) return this.challenge(res);
    if (!match?.[1]) return this.challenge(res, "the Authorization header must be: Bearer <token>");
    let signIn: VerifiedSignIn;
    try {
      signIn = (await provider.verifyAccessToken(match[1])).extra!.signin as VerifiedSignIn;
    } catch (error) {
      // Its standing cannot be checked (Redis away): refused, and the client told to come back.
      if (error instanceof SharedStateUnavailable) return unavailable(res, true);
      // Expired, tampered, another server's, or a Zoho token: all the same to the client.
      return this.challenge(res, "the access token is not valid (expired, revoked, or not issued by this server)");
    }
    const { deps, tokens } = this.sessions.depsFor(signIn);
    if (tokens.isRefused(signIn.zohoAccessToken)) return this.challenge(res, "Zoho no longer accepts this sign-in's token: refresh it or sign in again");
    return deps;
  }

  private challenge(res: ServerResponse, invalid?: string): undefined {
    const params = invalid
      ? `Bearer error="invalid_token", error_description="${invalid}", resource_metadata="${this.metadataUrl}"`
      : `Bearer resource_metadata="${this.metadataUrl}"`;
    const body = JSON.stringify(invalid ? { error: "invalid_token", error_description: invalid } : { error: "unauthorized", error_description: "sign in first: this server uses OAuth (see WWW-Authenticate)" });
    res.writeHead(401, { "content-type": "application/json", "www-authenticate": params, "cache-control": "no-store" }).end(body);
    return undefined;
  }
}

/**
 * 503 with Retry-After while Redis is away (SharedStateUnavailable): on /mcp as a JSON-RPC error
 * (what the MCP transport answers with), on the sign-in endpoints as an OAuth error.
 */
function unavailable(res: ServerResponse, jsonRpc: boolean): undefined {
  const message = SharedStateUnavailable.description;
  const body = jsonRpc ? { jsonrpc: "2.0", error: { code: -32000, message: `Service Unavailable: ${message}` }, id: null } : { error: "temporarily_unavailable", error_description: message };
  res.writeHead(503, { "content-type": "application/json", "retry-after": String(SharedStateUnavailable.retryAfterSeconds), "cache-control": "no-store" }).end(JSON.stringify(body));
  return undefined;
}

function buildApp(provider: ZohoSignInProvider, publicUrl: string, logger: Logger, rateLimit: false | Partial<RateLimits> | undefined, trustProxy: number | string[], shared: SharedState | undefined): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // The client's address (for the rate limits) comes from X-Forwarded-For only when the peer is a
  // proxy MCP_TRUST_PROXY names (by default none); from anyone else it is not believed.
  app.set("trust proxy", trustProxy);
  if (trustProxy === 0) {
    let told = false;
    app.use((req, _res, next) => {
      if (!told && req.headers["x-forwarded-for"] !== undefined) {
        told = true;
        logger.log("warning", "X-Forwarded-For is ignored (MCP_TRUST_PROXY is not set): every client behind a reverse proxy shares its rate limits. Set MCP_TRUST_PROXY=loopback for a proxy on this machine, or the proxies' addresses");
      }
      next();
    });
  }
  // Our limiters replace the SDK's (per address only, and far lower).
  const limit = { rateLimit: false as const };
  const limits = { ...RATE_LIMITS, ...(rateLimit || {}) };
  // With Redis, one bucket per client across every replica (`name` keeps the limiters' keys apart).
  const limiter = (name: string, max: number, windowMs: number, key?: (req: Request) => string): RequestHandler =>
    rateLimit === false
      ? (_req, _res, next) => next()
      : rateLimiter({
          windowMs,
          limit: max,
          ...(shared ? { store: shared.rateLimitStore(name) } : {}),
          standardHeaders: "draft-6",
          legacyHeaders: false,
          // IPv6 clients counted per /56, as one subscriber usually holds one.
          keyGenerator: (req) => `${ipKeyGenerator(req.ip ?? "")}${key ? ` ${key(req)}` : ""}`,
          message: { error: "too_many_requests", error_description: "too many requests from this address: try again later" },
        });
  const quarter = 15 * 60_000;
  const clientKey = (req: Request) => {
    const id = (req.body as Record<string, unknown> | undefined)?.client_id;
    // Hashed: a sealed client_id is long, and the limiter keeps every key for the window.
    return typeof id === "string" ? createHash("sha256").update(id).digest("base64url").slice(0, 22) : "-";
  };

  const oauthMetadata = {
    ...createOAuthMetadata({ provider, issuerUrl: new URL(publicUrl) }),
    // Without a trailing slash: the issuer is MCP_PUBLIC_URL as configured (RFC 8414 compares exactly).
    issuer: publicUrl,
    // Clients may use an https URL naming their metadata document as client_id (see clients.ts).
    client_id_metadata_document_supported: true,
    // RFC 9207: every redirect back to the client carries iss (mix-up defence).
    authorization_response_iss_parameter_supported: true,
  };
  const protectedResource = {
    resource: provider.resource,
    authorization_servers: [publicUrl],
    bearer_methods_supported: ["header"],
    resource_name: "Zoho CRM related records",
  };
  app.use("/.well-known/oauth-authorization-server", metadataHandler(oauthMetadata));
  // RFC 9728: at the resource's own path (/mcp), and at the root for clients that look there.
  app.use("/.well-known/oauth-protected-resource/mcp", metadataHandler(protectedResource));
  app.use("/.well-known/oauth-protected-resource", metadataHandler(protectedResource));
  const form = express.urlencoded({ extended: false, limit: "64kb" });
  // While Redis is away, what needs the ledger is refused at once (the limiters' store would refuse too).
  const needsShared: RequestHandler = (_req, res, next) => (shared && !shared.ready ? void unavailable(res, false) : next());
  // Metadata-document fetches are shared out per client address (client-documents.ts): the address
  // travels with the request from here on. After the body is read: a stream's callbacks would lose it.
  const requester: RequestHandler = (req, _res, next) => withRequester(ipKeyGenerator(req.ip ?? ""), next);
  app.use("/authorize", limiter("authorize", limits.authorize, quarter), form, requester, (req, res, next) => void provider.checkAuthorizationRequest(req, res, next).catch(next), authorizationHandler({ provider, ...limit }));
  // The SDK's /token and /revoke handlers answer every OAuth error 400, temporarily_unavailable
  // too: Redis failing inside the provider (after the limiters let the request in), or Zoho's
  // accounts server busy. Neither is the client's fault: 503 with Retry-After and no-store, like
  // unavailable() (a Redis failure's description is the same words as there).
  const outageIs503: RequestHandler = (_req, res, next) => {
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      if (res.statusCode === 400 && (body as { error?: unknown } | undefined)?.error === "temporarily_unavailable") {
        res.status(503).setHeader("retry-after", String(SharedStateUnavailable.retryAfterSeconds)).setHeader("cache-control", "no-store");
      }
      return json(body);
    };
    next();
  };
  app.use("/token", needsShared, limiter("token-address", limits.tokenPerAddress, quarter), form, limiter("token", limits.token, quarter, clientKey), requester, outageIs503, (req, res, next) => provider.checkTokenRequest(req, res, next), tokenHandler({ provider, ...limit }));
  app.use("/register", limiter("register", limits.register, 60 * 60_000), clientRegistrationHandler({ clientsStore: provider.clientsStore, clientSecretExpirySeconds: 0, ...limit }));
  app.use("/revoke", needsShared, limiter("revoke", limits.revoke, quarter), form, requester, outageIs503, revocationHandler({ provider, ...limit }));
  app.post(provider.consentPath, express.urlencoded({ extended: false, limit: "16kb" }), (req, res, next) => void provider.handleConsent(req, res).catch(next));
  app.get(provider.callbackPath, (req, res, next) => void provider.handleCallback(req, res).catch(next));
  app.use((_req: Request, res: Response) => void res.status(404).json({ error: "not_found" }));
  // Never Express's default handler: it would print a stack trace into the page.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // Logged once by the Redis connection, not per request.
    if (error instanceof SharedStateUnavailable) return void (res.headersSent ? res.end() : unavailable(res, false));
    const status = typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 500;
    if (status >= 500) logger.log("error", `sign-in endpoint failed: ${error instanceof Error ? error.message : String(error)}`);
    if (!res.headersSent) res.status(status).json({ error: status >= 500 ? "server_error" : "invalid_request" });
    else res.end();
  });
  return app;
}

