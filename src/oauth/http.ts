import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { authorizationHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/authorize.js";
import { metadataHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/metadata.js";
import { clientRegistrationHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/register.js";
import { revocationHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/revoke.js";
import { tokenHandler } from "@modelcontextprotocol/sdk/server/auth/handlers/token.js";
import { createOAuthMetadata } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { ConfigError, type Config } from "../config.js";
import { apiDomainAccepted } from "../zoho/auth.js";
import type { Logger } from "../log.js";
import type { ToolDeps } from "../tools/types.js";
import type { ClientStoreOptions } from "./clients.js";
import { ZohoSignInProvider, type VerifiedSignIn } from "./provider.js";
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
  /** Tests: the SDK handlers' per-IP rate limits (false: off). */
  rateLimit?: false;
}

/** Reads MCP_PUBLIC_URL and MCP_OAUTH_SECRET. In demo mode both may be left out. */
export function loadSignInSettings(env: NodeJS.ProcessEnv, options: { demo: boolean }): SignInSettings {
  const rawUrl = env.MCP_PUBLIC_URL?.trim();
  let publicUrl: string | undefined;
  if (rawUrl) {
    const url = URL.canParse(rawUrl) ? new URL(rawUrl) : undefined;
    if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.pathname.replace(/\/+$/, "") !== "") {
      throw new ConfigError("MCP_PUBLIC_URL must be the origin clients reach, such as https://crm-mcp.example.com (no path, query or fragment)");
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
    const decoded = /^[A-Za-z0-9+/_-]+={0,2}$/.test(rawSecret) ? Buffer.from(rawSecret, "base64") : Buffer.alloc(0);
    if (decoded.length < 32) throw new ConfigError("MCP_OAUTH_SECRET must be base64 that decodes to at least 32 bytes, e.g. the output of: openssl rand -base64 32");
    secret = new Uint8Array(decoded);
  } else if (options.demo) {
    // Demo only: tokens die with the process, which is what a demo wants.
    secret = new Uint8Array(randomBytes(32));
  } else {
    throw new ConfigError("MCP_OAUTH_SECRET is missing: --oauth needs a secret that seals the tokens it issues, e.g. the output of: openssl rand -base64 32");
  }
  return { publicUrl, secret };
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
    this.sessions = new UserSessions(config, logger);
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
      ...(this.settings.clients ? { clients: this.settings.clients } : {}),
    });
    this.provider = provider;
    this.metadataUrl = `${publicUrl}/.well-known/oauth-protected-resource/mcp`;
    this.app = buildApp(provider, publicUrl, this.logger, this.settings.rateLimit);
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
    } catch {
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

function buildApp(provider: ZohoSignInProvider, publicUrl: string, logger: Logger, rateLimit: false | undefined): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // Behind a reverse proxy on the same machine, the client's address (for the per-IP rate limits)
  // comes from X-Forwarded-For; from anywhere else that header is not believed.
  app.set("trust proxy", "loopback");
  // Per client address. Above the SDK's defaults (50 token requests per 15 minutes, 20
  // registrations an hour): Claude's and ChatGPT's servers exchange and refresh tokens for all their
  // users from a few addresses, and one team would exhaust those.
  const perAddress = (windowMinutes: number, max: number) => ({ rateLimit: rateLimit === false ? (false as const) : { windowMs: windowMinutes * 60_000, max } });

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
  app.use("/authorize", form, (req, res, next) => provider.checkAuthorizationRequest(req, res, next), authorizationHandler({ provider, ...perAddress(15, 300) }));
  app.use("/token", form, (req, res, next) => provider.checkTokenRequest(req, res, next), tokenHandler({ provider, ...perAddress(15, 600) }));
  app.use("/register", clientRegistrationHandler({ clientsStore: provider.clientsStore, clientSecretExpirySeconds: 0, ...perAddress(60, 100) }));
  app.use("/revoke", revocationHandler({ provider, ...perAddress(15, 300) }));
  app.post(provider.consentPath, express.urlencoded({ extended: false, limit: "16kb" }), (req, res, next) => void provider.handleConsent(req, res).catch(next));
  app.get(provider.callbackPath, (req, res, next) => void provider.handleCallback(req, res).catch(next));
  app.use((_req: Request, res: Response) => void res.status(404).json({ error: "not_found" }));
  // Never Express's default handler: it would print a stack trace into the page.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 500;
    if (status >= 500) logger.log("error", `sign-in endpoint failed: ${error instanceof Error ? error.message : String(error)}`);
    if (!res.headersSent) res.status(status).json({ error: status >= 500 ? "server_error" : "invalid_request" });
    else res.end();
  });
  return app;
}

