import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ConfigError, isLoopback } from "../config.js";
import { registerSecret } from "../log.js";
import { weakText } from "../secret-strength.js";
import { SERVER_NAME, SERVER_VERSION, buildServer } from "../server.js";
import type { ToolDeps } from "../tools/types.js";
import { DRAIN_MAX_BYTES, EARLY_DRAIN_MAX_BYTES, SIGN_IN_MAX_BODY_BYTES, answerThenDrain, batchRefusal, capBody, discardRest, readBody } from "./http-limits.js";

/**
 * Remote mode: MCP over Streamable HTTP, stateless. Every POST /mcp gets a fresh McpServer and
 * transport (no session, so any replica behind a load balancer can answer any request), all built
 * on the ONE ToolDeps of the process: one Zoho token cache and one concurrency cap per process.
 */

export const MCP_PATH = "/mcp";
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 3000;
export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpOptions {
  host: string;
  port: number;
  /** MCP_HTTP_TOKEN: when set, every /mcp request must carry `Authorization: Bearer <token>`. */
  token: string | undefined;
  /** MCP_ALLOWED_ORIGINS: a request carrying any other Origin is refused (403). */
  allowedOrigins: string[];
  /**
   * MCP_ALLOWED_HOSTS: Host header values accepted besides the loopback names (the public name a
   * reverse proxy forwards). When set, Host is checked on any bind, not only on loopback.
   */
  allowedHosts?: string[];
  maxBodyBytes?: number;
  /** Per-user sign-in (--oauth, src/oauth/http.ts): answers its own paths and checks /mcp's bearer. */
  signIn?: SignInHook;
  /** MCP_REDIS_URL's shared state: /healthz says how Redis stands, as this replica last found it. */
  redis?: { readonly health: "ok" | "failing" | "unavailable" };
}

/** What the transport needs from per-user sign-in; kept small so the two stay apart. */
export interface SignInHook {
  /** Once bound: the origin the server listens at. */
  ready(origin: string): void;
  owns(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The deps of the user the request's token names, or undefined once it has answered 401. */
  authenticate(req: IncomingMessage, res: ServerResponse): Promise<ToolDeps | undefined>;
}

export interface HttpServerHandle {
  /** `http://H:N/mcp`, with the port actually bound (useful with port 0). */
  url: string;
  port: number;
  /** Requests being answered right now. */
  inFlight(): number;
  /** Stops accepting, lets in-flight requests finish, resolves once the last one has. */
  close(): Promise<void>;
}

/** One rule for "stays on this machine", shared with the settings (config.ts). */
export { isLoopback };

/**
 * A page served from this machine (http://localhost:5173, http://127.0.0.1:PORT): on a loopback
 * bind, DNS rebinding is what the Origin check stops, and a rebinding page carries its own foreign
 * origin. A page that really is on loopback was put there by something already running here.
 */
function isLoopbackOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === "http:" || url.protocol === "https:") && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

/** IPv6 literals need brackets inside a URL or a Host header. */
function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Reads --port/--host and the MCP_* variables; refuses what would be unsafe or unusable. */
export function loadHttpOptions(flags: { host?: string | undefined; port?: string | undefined; oauth?: boolean | undefined }, env: NodeJS.ProcessEnv = process.env): HttpOptions {
  const host = flags.host?.trim() || DEFAULT_HOST;
  const portText = flags.port?.trim() ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new ConfigError(`--port must be a whole number from 0 to 65535`);
  const token = env.MCP_HTTP_TOKEN?.trim() || undefined;
  // Per-user sign-in replaces the shared token: every /mcp request carries the user's own.
  if (flags.oauth && token) throw new ConfigError("MCP_HTTP_TOKEN and --oauth exclude each other: with --oauth each user signs in; unset MCP_HTTP_TOKEN");
  if (!token && !flags.oauth && !isLoopback(host)) {
    throw new ConfigError(
      `refusing to serve on ${host} without MCP_HTTP_TOKEN: anyone who can reach that address could read your Zoho CRM. Set MCP_HTTP_TOKEN (a long random string clients send as "Authorization: Bearer <token>"), or bind 127.0.0.1`,
    );
  }
  // A bearer token is a password anyone on the network may try: short ones are guessable (and too
  // short to be redacted from logs safely).
  if (token && token.length < 16) throw new ConfigError("MCP_HTTP_TOKEN must be at least 16 characters: use a long random string, e.g. openssl rand -hex 32");
  const weakness = token ? weakText(token) : undefined;
  if (weakness) throw new ConfigError(`MCP_HTTP_TOKEN is guessable (${weakness}): use a long random string, e.g. openssl rand -hex 32`);
  registerSecret(token);
  const allowedOrigins = list(env.MCP_ALLOWED_ORIGINS).map((o) => {
    // Browsers send the serialized origin (scheme://host[:port], no path, default port left out).
    // "null" (what sandboxed frames send) would come out of a scheme-less entry: never allow it.
    const origin = URL.canParse(o) ? new URL(o).origin : "null";
    if (origin === "null") throw new ConfigError(`MCP_ALLOWED_ORIGINS must be a comma-separated list of origins such as https://app.example.com`);
    return origin;
  });
  const allowedHosts = list(env.MCP_ALLOWED_HOSTS).map((h) => h.toLowerCase());
  return { host, port, token, allowedOrigins, allowedHosts };
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((v) => v.trim()).filter(Boolean);
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Constant time: both sides hashed to 32 bytes, so neither content nor length leaks through timing. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return timingSafeEqual(sha256(match?.[1]?.trim() ?? ""), expected) && match !== null;
}

/** The JSON-RPC error body the SDK's transport itself answers with, so clients see one shape. */
function rpcError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(rpcError(code, message));
}

/** Token mode's one way in, said in every 401 (body and WWW-Authenticate) and at the OAuth discovery paths. */
const TOKEN_MODE = "this server expects Authorization: Bearer <token>, the MCP_HTTP_TOKEN it was started with; it offers no OAuth sign-in";

/** Where an OAuth client registers, signs in and gets tokens when no metadata names other paths. */
const OAUTH_PATHS = new Set(["/register", "/authorize", "/token", "/revoke"]);

/**
 * The requests this replica is answering, by caller and JSON-RPC id. Stateless, a client's
 * notifications/cancelled comes in a POST of its own (the SDK client keeps the call's stream open
 * and sends one when its AbortSignal aborts): this is where it finds the call it names. A caller is
 * its Authorization header (the MCP_HTTP_TOKEN, or a sign-in's own access token) and its address;
 * ids are only unique per client, so when two calls of one caller share the id, neither is
 * cancelled: ignoring a cancellation is allowed (the call's answer is dropped by the client), ending
 * someone else's call is not. A cancellation that reaches another replica finds nothing; a
 * disconnect always ends the call.
 */
class InFlightCalls {
  private readonly calls = new Map<string, Set<() => void>>();

  /** `cancel` closes the POST's server: every call of a batch ends with the one named (batches left the protocol in 2025-06-18). */
  add(caller: string, id: unknown, cancel: () => void): void {
    const key = this.key(caller, id);
    this.calls.set(key, (this.calls.get(key) ?? new Set()).add(cancel));
  }

  delete(caller: string, id: unknown, cancel: () => void): void {
    const key = this.key(caller, id);
    const set = this.calls.get(key);
    set?.delete(cancel);
    if (set?.size === 0) this.calls.delete(key);
  }

  cancel(caller: string, id: unknown): void {
    const set = this.calls.get(this.key(caller, id));
    if (set?.size === 1) for (const cancel of set) cancel();
  }

  private key(caller: string, id: unknown): string {
    return `${caller} ${JSON.stringify(id)}`;
  }
}

function callerOf(req: IncomingMessage): string {
  return `${sha256(req.headers.authorization ?? "").toString("base64")} ${req.socket.remoteAddress ?? ""}`;
}

function isRequest(m: unknown): m is { id: string | number } {
  const message = m as { id?: unknown; method?: unknown } | null;
  return typeof message?.method === "string" && (typeof message.id === "string" || typeof message.id === "number");
}

function isCancellation(m: unknown): m is { params: { requestId: string | number } } {
  const message = m as { method?: unknown; id?: unknown; params?: { requestId?: unknown } } | null;
  return message?.method === "notifications/cancelled" && message.id === undefined && message.params?.requestId !== undefined;
}

export async function startHttpServer(deps: ToolDeps, options: HttpOptions): Promise<HttpServerHandle> {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const expectedToken = options.token ? sha256(options.token) : undefined;
  const allowedOrigins = new Set(options.allowedOrigins);
  // Filled in once the port is known (port 0 picks one).
  let allowedHosts: Set<string> | undefined;
  const loopbackBind = isLoopback(options.host);
  let inFlight = 0;
  let draining = false;
  const inFlightCalls = new InFlightCalls();

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host and Origin.
    if (allowedHosts && !allowedHosts.has((req.headers.host ?? "").toLowerCase())) return refuse(res, 403, "Forbidden: Host header not allowed (see MCP_ALLOWED_HOSTS)");
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin) && !(loopbackBind && isLoopbackOrigin(origin))) {
      return refuse(res, 403, "Forbidden: Origin not allowed (see MCP_ALLOWED_ORIGINS)");
    }
    let requestDeps = deps;
    if (options.signIn) {
      const userDeps = await options.signIn.authenticate(req, res);
      if (!userDeps) return;
      requestDeps = userDeps;
    } else if (expectedToken && !bearerMatches(req.headers.authorization, expectedToken)) {
      // Say what this mode expects, so clients do not go looking for an OAuth sign-in it does not offer.
      const sent = req.headers.authorization !== undefined;
      return refuse(res, 401, `Unauthorized: ${TOKEN_MODE}`, {
        "www-authenticate": `Bearer realm="${SERVER_NAME}"${sent ? ', error="invalid_token"' : ""}, error_description="${TOKEN_MODE}"`,
      });
    }
    // Stateless: no session to resume (GET) or end (DELETE). Without this a GET would hold an
    // SSE stream open forever on a server nothing can ever write to.
    if (req.method !== "POST") return refuse(res, 405, "Method not allowed: this server is stateless, POST JSON-RPC to /mcp", { allow: "POST" });
    const tooLarge = () => answerThenDrain(req, res, 413, rpcError(-32000, `Payload Too Large: request body must not exceed ${maxBodyBytes} bytes`));
    // A declared length over the cap is refused before a byte is read (and, when the client asked
    // first with Expect: 100-continue, before it sends one).
    if (Number(req.headers["content-length"]) > maxBodyBytes) return tooLarge();

    // Only now is the client told to send its body (when it asked first): refusals above cost no upload.
    if (/100-continue/i.test(req.headers.expect ?? "")) res.writeContinue();
    // Read here, not by the transport: a batch is bounded before any of it runs.
    const body = await readBody(req, maxBodyBytes);
    if ("tooLarge" in body) return tooLarge();
    if ("invalid" in body) return refuse(res, 400, body.invalid, {}, -32700);
    const refusal = batchRefusal(body.json, requestDeps.config.maxRecords);
    if (refusal) return refuse(res, 400, refusal, {}, -32600);
    // Stateless: a per-request server never sees initialize and keeps no stream open, so a tool
    // call's logging notifications travel on its own response stream.
    const server = buildServer(requestDeps, { logging: "request" });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, maxRequestBodySize: maxBodyBytes });
    // Closing the server aborts its calls (extra.signal), and with them their Zoho requests: when
    // the client goes away (disconnect) or cancels (below), and after the answer.
    const close = () => void server.close().catch(() => undefined);
    const caller = callerOf(req);
    const messages = Array.isArray(body.json) ? body.json : [body.json];
    for (const m of messages) if (isCancellation(m)) inFlightCalls.cancel(caller, m.params.requestId);
    const ids = messages.filter(isRequest).map((m) => m.id);
    for (const id of ids) inFlightCalls.add(caller, id, close);
    res.once("close", () => {
      for (const id of ids) inFlightCalls.delete(caller, id, close);
      close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body.json);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/healthz") {
      // Unauthenticated on purpose (load balancers probe it); it says nothing about the CRM.
      // 503 while draining takes this replica out of rotation before it stops. A Redis outage
      // keeps it 200: this replica is alive and answers 503 with Retry-After itself (so does every
      // other replica on that Redis), which tells a client more than a proxy's 502 with no replica
      // left; the body says how Redis stands, for monitoring (never its address).
      const redis = options.redis ? { redis: options.redis.health } : {};
      res.writeHead(draining ? 503 : 200, { "content-type": "application/json", "cache-control": "no-store" });
      return void res.end(JSON.stringify({ status: draining ? "draining" : "ok", name: SERVER_NAME, version: SERVER_VERSION, ...redis }));
    }
    if (options.signIn?.owns(path)) {
      if (allowedHosts && !allowedHosts.has((req.headers.host ?? "").toLowerCase())) return refuse(res, 403, "Forbidden: Host header not allowed (see MCP_ALLOWED_HOSTS)");
      // Before any parser: Express's would read the whole declared body, then answer 413.
      if (Number(req.headers["content-length"]) > SIGN_IN_MAX_BODY_BYTES) {
        const body = { error: "invalid_request", error_description: `the request body must not exceed ${SIGN_IN_MAX_BODY_BYTES} bytes` };
        return answerThenDrain(req, res, 413, JSON.stringify(body));
      }
      return options.signIn.handle(req, res);
    }
    // A client that met a 401 looks for OAuth metadata (RFC 9728, RFC 8414), then falls back to
    // /register, /authorize and /token at the root: each says, as an OAuth error its client prints
    // (mcp-remote: "Dynamic Client Registration rejected (HTTP 400): <body>"), what to send instead.
    if (!options.signIn && (path.startsWith("/.well-known/oauth") || path === "/.well-known/openid-configuration" || OAUTH_PATHS.has(path))) {
      const body = { error: "invalid_request", error_description: options.token ? TOKEN_MODE : "this server offers no OAuth sign-in" };
      res.writeHead(path.startsWith("/.well-known/") ? 404 : 400, { "content-type": "application/json", "cache-control": "no-store" });
      return void res.end(JSON.stringify(body));
    }
    if (path !== MCP_PATH) return refuse(res, 404, `Not found: MCP is served at ${MCP_PATH}`);
    return handleMcp(req, res);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    // The most any request may make us read, its body and what is drained after an answer: a
    // chunked body (no length to refuse up front) sent to a sign-in endpoint is otherwise read to
    // its end by Express's parsers before their 413.
    const url = req.url ?? "/";
    const signInPath = URL.canParse(url, "http://localhost") && (options.signIn?.owns(new URL(url, "http://localhost").pathname) ?? false);
    capBody(req, signInPath ? SIGN_IN_MAX_BODY_BYTES + EARLY_DRAIN_MAX_BYTES : maxBodyBytes + DRAIN_MAX_BYTES);
    if (draining) res.setHeader("connection", "close");
    res.once("close", () => {
      inFlight--;
      if (draining) http.closeIdleConnections();
    });
    // Answered before the body was read (401, 404, a sign-in endpoint's 400): what is left is read
    // and dropped within bounds, where Node alone would read any amount.
    res.once("prefinish", () => discardRest(req));
    handle(req, res).catch((error: unknown) => {
      deps.logger.log("error", `HTTP request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) refuse(res, 500, "Internal error");
      else res.end();
    });
  };
  const http = createServer(onRequest);
  // Without this listener Node answers "100 Continue" itself, before any check has run.
  http.on("checkContinue", onRequest);

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  if (loopbackBind) {
    // Port 80 is left out of a Host header by clients, so both forms are accepted then.
    const names = ["localhost", "127.0.0.1", "[::1]", hostForUrl(options.host).toLowerCase()];
    allowedHosts = new Set(names.flatMap((n) => (port === 80 ? [n, `${n}:80`] : [`${n}:${port}`])));
  }
  if (options.allowedHosts?.length) allowedHosts = new Set([...(allowedHosts ?? []), ...options.allowedHosts]);
  options.signIn?.ready(`http://${hostForUrl(options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host)}:${port}`);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl(options.host)}:${port}${MCP_PATH}`,
    port,
    inFlight: () => inFlight,
    close() {
      closing ??= new Promise<void>((resolve) => {
        draining = true;
        // close() stops accepting and resolves once every connection has ended; idle keep-alive
        // connections would otherwise hold it open, and busy ones are cut as their response ends.
        http.close(() => resolve());
        http.closeIdleConnections();
      });
      return closing;
    },
  };
}
