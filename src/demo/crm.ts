// A Zoho-compatible demo CRM over node:http: the accounts server (OAuth token refresh) and the
// CRM v7 API (Get Related Records, Get Record, related-list and field metadata, org) in one
// process. `--demo` mode serves against it and every test talks to it over real HTTP, so it
// reproduces Zoho's documented answers, errors included, plus injectable faults.
//
// Never write to stdout here: in demo mode the MCP server shares the process and stdout is JSON-RPC.

import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { DEMO_SIGNIN_USERS, DemoAccounts, permissionsOf, type DemoIdentity, type DemoSignInUserKey } from "./accounts.js";
import { DEMO_USERS, demoData, zohoTime, type DemoFile, type DemoRecord } from "./seed.js";
import { SearchError, searchPredicate } from "./search.js";
import { CRM_MODULES, RESTRICTED_MODULES, UNSUPPORTED_MODULES, fieldsOf, moduleSettingsOf, modulesList, relatedListsOf, type RelatedListMeta } from "./schema.js";

export interface DemoCrmOptions {
  port?: number;               // default 0
  clientId?: string;           // default "demo-client-id"
  clientSecret?: string;       // default "demo-client-secret"
  refreshToken?: string;       // default "demo-refresh-token"
  tokenTtlSeconds?: number;    // expires_in of issued tokens, default 3600
  latencyMs?: number;          // added delay before answering every /crm request (also settable later)
  refreshLimit?: { max: number; windowMs: number }; // default { max: 10, windowMs: 600_000 }, like Zoho
  withoutScopes?: string[];    // scopes the self-client lacks, e.g. ["ZohoCRM.settings.fields.READ"]: those endpoints answer 401 OAUTH_SCOPE_MISMATCH
}
export interface RecordedRequest { method: string; path: string; query: Record<string, string>; headers: Record<string, string | undefined>; status: number; startedAt: number; endedAt: number; }
export interface DemoFaults {
  latencyMs: number;                               // per /crm request
  pathLatencyMs?: Record<string, number>;          // more delay for one path's requests, e.g. { "/crm/v7/org": 6000 }
  // each of these applies to the next N /crm requests (decremented as used), 0 = off
  status429: number;                               // answer 429 {"code":"TOO_MANY_REQUESTS",...} ; with retryAfterSeconds if set, send Retry-After
  retryAfterSeconds?: number;
  status5xx: number;                               // answer 500 INTERNAL_ERROR (or 503 when status5xxCode=503)
  status5xxCode?: 500 | 502 | 503 | 504;
  hang: number;                                    // accept, never answer (until the client aborts / socket closes)
  reset: number;                                   // destroy the socket without answering
  malformed: number;                               // 200 with content-type json and a truncated / non-JSON body
  endlessFiles?: number;                           // the next N file downloads stream without end (chunked, no Content-Length), until the client hangs up
  concurrencyLimit?: number;                       // like an edition limit: requests beyond this many in flight get 429 TOO_MANY_REQUESTS
}
export interface DemoCrm {
  url: string;                 // e.g. http://127.0.0.1:41234 — both the accounts base and the api_domain
  faults: DemoFaults;          // mutable by tests
  stats: { tokenRequests: number; tokensIssued: number; revocations: number; crmRequests: number; inFlight: number; maxInFlight: number; requests: RecordedRequest[] };
  resetStats(): void;          // zero counters, clear requests, keep data and tokens
  expireAllTokens(): void;     // every issued access token becomes invalid (401 INVALID_TOKEN)
  issueAccessToken(): string;  // for tests that use a static ZOHO_ACCESS_TOKEN
  issuedAccessTokens(): string[]; // every access token minted so far (expired ones too), for secret canaries
  issueGrantCode(ttlMs?: number): string; // a self-client's grant code, as the API console's Generate Code makes it; single use
  close(): Promise<void>;      // closes server and all sockets (including hung ones) promptly
}

const SCOPE = "ZohoCRM.modules.ALL ZohoCRM.modules.emails.READ ZohoCRM.settings.related_lists.READ ZohoCRM.settings.fields.READ ZohoCRM.settings.modules.READ ZohoCRM.org.READ ZohoCRM.users.READ ZohoSearch.securesearch.READ";
/** How long a self-client's grant code lives: the API console offers 3 to 10 minutes. */
const GRANT_CODE_TTL_MS = 10 * 60_000;
const MAX_PER_PAGE = 200;
const MAX_FIELDS = 50;
const DISCRETE_PAGINATION_LIMIT = 2000; // records reachable with `page`; beyond that only page_token
const PAGINATION_LIMIT = 100_000;       // records reachable at all, even with page_token
const PAGE_TOKEN_TTL_MS = 24 * 3_600_000;
const SORT_BY = new Set(["id", "Created_Time", "Modified_Time"]);

/** A Zoho error answer: `{"code","details","message","status":"error"}`. */
class ZohoError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
  }
}

const invalidData = (message: string, details: Record<string, unknown>) => new ZohoError(400, "INVALID_DATA", message, details);
const invalidParam = (param: string) => invalidData(`the given ${param} is invalid`, { param_name: param });

/** What a /crm handler answers: JSON, a file, or an empty 204/304. */
type Reply = { status: 200; body: unknown } | { status: 200; file: DemoFile } | { status: 204 | 304 };

/** Zoho's Emails API answers ten emails per call, paged by `index`. */
const EMAILS_PER_CALL = 10;

export async function startDemoCrm(options: DemoCrmOptions = {}): Promise<DemoCrm> {
  const clientId = options.clientId ?? "demo-client-id";
  const clientSecret = options.clientSecret ?? "demo-client-secret";
  const refreshToken = options.refreshToken ?? "demo-refresh-token";
  const ttlMs = (options.tokenTtlSeconds ?? 3600) * 1000;
  const refreshLimit = options.refreshLimit ?? { max: 10, windowMs: 600_000 };
  const data = demoData();
  const missingScopes = new Set(options.withoutScopes ?? []);
  const grantedScope = SCOPE.split(" ").filter((scope) => !missingScopes.has(scope)).join(" ");
  /** The metadata endpoints each need their own settings scope, as on Zoho. */
  const requireScope = (scope: string) => {
    if (missingScopes.has(scope) || (consented && !consented.has(scope))) throw new ZohoError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL", { required_scope: scope });
  };
  // A signed-in user's token holds the scopes the sign-in asked for, no others (Zoho grants what the
  // consent URL names). Set for the one request route() is answering: route() is synchronous.
  let consented: ReadonlySet<string> | undefined;
  // Signs page tokens; per server, so a token from another demo server is garbage here.
  const pageTokenKey = randomBytes(32);

  const tokens = new Map<string, number>(); // access token -> expiry (epoch ms)
  // Per-user sign-in (accounts.ts): who each access token belongs to, and the refresh token it came
  // from (revoking that ends it). Tokens not in here are the self-client's service user.
  const accounts = new DemoAccounts(clientId);
  const tokenOwners = new Map<string, { user: DemoSignInUserKey; refreshToken: string }>();
  const minted: string[] = []; // survives expireAllTokens(): a leaked expired token is still a leak
  const grantCodes = new Map<string, number>(); // self-client grant code -> expiry (epoch ms)
  let refreshWindow = { start: 0, count: 0 };
  let admitted = 0; // /crm requests in flight that were not turned away by concurrencyLimit
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const faults: DemoFaults = { latencyMs: options.latencyMs ?? 0, status429: 0, status5xx: 0, hang: 0, reset: 0, malformed: 0 };
  const stats: DemoCrm["stats"] = { tokenRequests: 0, tokensIssued: 0, revocations: 0, crmRequests: 0, inFlight: 0, maxInFlight: 0, requests: [] };

  let url = "";

  function mintAccessToken(owner?: { user: DemoSignInUserKey; refreshToken: string }): string {
    const token = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
    tokens.set(token, Date.now() + ttlMs);
    if (owner) tokenOwners.set(token, owner);
    minted.push(token);
    return token;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { timers.delete(timer); resolve(); }, ms);
      timers.add(timer);
    });
  }

  // ------------------------------------------------------------ accounts: POST /oauth/v2/token

  async function handleToken(req: IncomingMessage, res: ServerResponse, requestUrl: URL): Promise<void> {
    stats.tokenRequests++;
    if (req.method !== "POST") {
      sendJson(res, 405, { error: "invalid_request_method" }, { allow: "POST" });
      return;
    }
    // Zoho reads the parameters from the query string or the form body.
    const params = new URLSearchParams(requestUrl.search);
    for (const [key, value] of new URLSearchParams(await readBody(req))) params.set(key, value);

    // Zoho answers failed refreshes with HTTP 200 and an "error" field.
    const grantType = params.get("grant_type");
    // A self-client's code (the API console's Generate Code) comes without a redirect URI.
    if (grantType === "authorization_code" && params.get("redirect_uri") === null) return exchangeGrantCode(res, params);
    if (grantType !== "refresh_token" && grantType !== "authorization_code") return sendJson(res, 200, { error: "unsupported_grant_type" });
    if (params.get("client_id") !== clientId || params.get("client_secret") !== clientSecret) return sendJson(res, 200, { error: "invalid_client" });
    if (grantType === "authorization_code") {
      const grant = accounts.exchange(params);
      if ("error" in grant) return sendJson(res, 200, { error: grant.error });
      stats.tokensIssued++;
      const owner = { user: grant.user, refreshToken: grant.refreshToken };
      return sendJson(res, 200, { access_token: mintAccessToken(owner), refresh_token: grant.refreshToken, scope: grantedScope, api_domain: url, token_type: "Bearer", expires_in: ttlMs / 1000 });
    }
    const signedInUser = accounts.refreshTokens.get(params.get("refresh_token") ?? "");
    if (signedInUser) {
      stats.tokensIssued++;
      const owner = { user: signedInUser, refreshToken: params.get("refresh_token")! };
      return sendJson(res, 200, { access_token: mintAccessToken(owner), scope: grantedScope, api_domain: url, token_type: "Bearer", expires_in: ttlMs / 1000 });
    }
    if (params.get("refresh_token") !== refreshToken) return sendJson(res, 200, { error: "invalid_code" });

    // About 10 access tokens per 10 minutes per refresh token; past that, blocked for the rest of the window.
    const now = Date.now();
    if (now - refreshWindow.start >= refreshLimit.windowMs) refreshWindow = { start: now, count: 0 };
    if (refreshWindow.count >= refreshLimit.max) {
      // HTTP 200, like Zoho (Kaizen #43: "the status code ... remains 200").
      return sendJson(res, 200, { error_description: "You have made too many requests continuously. Please try again after some time.", error: "Access Denied", status: "failure" });
    }
    refreshWindow.count++;
    stats.tokensIssued++;
    sendJson(res, 200, { access_token: mintAccessToken(), scope: grantedScope, api_domain: url, token_type: "Bearer", expires_in: ttlMs / 1000 });
  }

  /**
   * A self-client's grant code (no redirect URI) for the refresh token: HTTP 200 either way, like
   * Zoho, with {"error": "invalid_code"} for a code that is unknown, expired or already used.
   */
  function exchangeGrantCode(res: ServerResponse, params: URLSearchParams): void {
    if (params.get("client_id") !== clientId || params.get("client_secret") !== clientSecret) return sendJson(res, 200, { error: "invalid_client" });
    const code = params.get("code") ?? "";
    const expiresAt = grantCodes.get(code);
    grantCodes.delete(code);
    if (expiresAt === undefined || expiresAt <= Date.now()) return sendJson(res, 200, { error: "invalid_code" });
    stats.tokensIssued++;
    sendJson(res, 200, { access_token: mintAccessToken(), refresh_token: refreshToken, scope: grantedScope, api_domain: url, token_type: "Bearer", expires_in: ttlMs / 1000 });
  }

  // ------------------------------------------------------------ accounts: POST /oauth/v2/token/revoke

  /** Zoho's revoke: `?token=` a refresh token (ending every access token issued from it) or an access token. */
  function handleRevoke(req: IncomingMessage, res: ServerResponse, requestUrl: URL): void {
    stats.revocations++;
    if (req.method !== "POST") return sendJson(res, 405, { error: "invalid_request_method" }, { allow: "POST" });
    const token = requestUrl.searchParams.get("token") ?? "";
    if (accounts.refreshTokens.delete(token)) {
      accounts.refreshScopes.delete(token);
      for (const [access, owner] of tokenOwners) if (owner.refreshToken === token) tokens.delete(access);
      return sendJson(res, 200, { status: "success" });
    }
    if (tokenOwners.has(token) && tokens.delete(token)) return sendJson(res, 200, { status: "success" });
    sendJson(res, 400, { status: "failure", error: "invalid_token" });
  }

  // ------------------------------------------------------------ /crm: faults, bookkeeping, auth, routing

  async function handleCrm(req: IncomingMessage, res: ServerResponse, requestUrl: URL): Promise<void> {
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: requestUrl.pathname,
      query: Object.fromEntries(requestUrl.searchParams),
      headers: recordableHeaders(req),
      status: 0,
      startedAt: Date.now(),
      endedAt: 0,
    };
    stats.crmRequests++;
    stats.requests.push(recorded);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    // Decide at arrival, against the requests already being served: the turned-away ones do not
    // take a slot, as with Zoho's per-org concurrency limit.
    const overLimit = faults.concurrencyLimit !== undefined && faults.concurrencyLimit > 0 && admitted >= faults.concurrencyLimit;
    if (!overLimit) admitted++;
    let closed = false;
    // "close" fires once the response is sent or the socket goes away (client abort, reset, close()).
    res.once("close", () => {
      closed = true;
      stats.inFlight--;
      if (!overLimit) admitted--;
      recorded.endedAt = Date.now();
      recorded.status = res.headersSent ? res.statusCode : 0;
    });

    const latency = faults.latencyMs + (faults.pathLatencyMs?.[requestUrl.pathname] ?? 0);
    if (latency > 0) await sleep(latency);
    if (closed) return;
    if (overLimit) return sendError(res, tooManyRequests());
    if (faults.hang > 0) { faults.hang--; return; } // the socket stays open until the client gives up
    if (faults.reset > 0) { faults.reset--; req.socket.destroy(); return; }
    if (faults.status429 > 0) {
      faults.status429--;
      return sendError(res, tooManyRequests(), faults.retryAfterSeconds !== undefined ? { "retry-after": String(faults.retryAfterSeconds) } : {});
    }
    if (faults.status5xx > 0) {
      faults.status5xx--;
      return sendError(res, new ZohoError(faults.status5xxCode ?? 500, "INTERNAL_ERROR", "Internal Server Error"));
    }
    if (faults.malformed > 0) {
      faults.malformed--;
      res.writeHead(200, { "content-type": "application/json;charset=UTF-8" });
      res.end('{"data":[{"Owner":{"name":"Patricia Boyle","id":"4876876000000327001"'); // cut off mid-object
      return;
    }

    let reply: Reply;
    try {
      const identity = authenticate(req.headers.authorization);
      if (req.method !== "GET") throw new ZohoError(400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one");
      const owner = tokenOwners.get(/^Zoho-oauthtoken (\S+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
      const scope = owner && accounts.refreshScopes.get(owner.refreshToken);
      consented = scope ? new Set(scope.split(/[\s,]+/)) : undefined;
      reply = route(requestUrl, req.headers["if-modified-since"], identity);
    } catch (error) {
      return sendError(res, error instanceof ZohoError ? error : new ZohoError(500, "INTERNAL_ERROR", "Internal Server Error"));
    } finally {
      consented = undefined;
    }
    if (reply.status === 200 && "file" in reply) {
      const endless = (faults.endlessFiles ?? 0) > 0;
      if (endless) faults.endlessFiles!--;
      res.writeHead(200, {
        "content-type": reply.file.contentType,
        ...(endless ? {} : { "content-length": reply.file.bytes.length }),
        "content-disposition": `attachment; filename="${reply.file.name}"`,
      });
      if (!endless) return void res.end(reply.file.bytes);
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (!res.destroyed) if (!res.write(chunk)) return void res.once("drain", pump);
      };
      pump();
    } else if (reply.status === 200) sendJson(res, 200, reply.body);
    else { res.writeHead(reply.status); res.end(); }
  }

  function authenticate(header: string | undefined): DemoIdentity {
    const match = /^Zoho-oauthtoken (\S+)$/.exec(header ?? "");
    if (!match?.[1]) throw new ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed");
    const expiresAt = tokens.get(match[1]);
    if (expiresAt === undefined || expiresAt <= Date.now()) throw new ZohoError(401, "INVALID_TOKEN", "invalid oauth token");
    return tokenOwners.get(match[1])?.user ?? "service";
  }

  function route(requestUrl: URL, ifModifiedSince: string | undefined, identity: DemoIdentity): Reply {
    const can = permissionsOf(identity);
    const segments = requestUrl.pathname.split("/").slice(1);
    if (segments.at(-1) === "") segments.pop(); // tolerate one trailing slash
    const [crm, version, ...rest] = segments.map((s) => { try { return decodeURIComponent(s); } catch { return s; } });
    const q = requestUrl.searchParams;
    if (crm === "crm" && version === "v7") {
      const [first, second, third] = rest;
      if (rest.length === 1 && first === "org") {
        requireScope("ZohoCRM.org.READ");
        return { status: 200, body: { org: [ORG] } };
      }
      if (rest.length === 1 && first === "users") return getUsers(q, identity);
      if (first && first !== "settings" && missingScopes.has("ZohoCRM.modules.ALL")) {
        throw new ZohoError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL", { required_scope: `ZohoCRM.modules.${first.toLowerCase()}.READ` });
      }
      if (rest.length === 1 && first && first !== "settings") return getRecords(first, q, can);
      if (rest.length === 2 && first === "settings" && second === "related_lists") {
        requireScope("ZohoCRM.settings.related_lists.READ");
        // Zoho leaves out the lists of modules the user's profile cannot read (the signed-in sales rep).
        const lists = relatedListsOf(moduleParam(q)).filter((l) => can.listsInvoices || l.module?.api_name !== "Invoices");
        return { status: 200, body: { related_lists: lists } };
      }
      if (rest.length === 2 && first === "settings" && second === "fields") {
        requireScope("ZohoCRM.settings.fields.READ");
        return { status: 200, body: { fields: fieldsOf(moduleParam(q)) } };
      }
      if (rest.length === 2 && first === "settings" && second === "modules") {
        requireScope("ZohoCRM.settings.modules.READ");
        return { status: 200, body: { modules: modulesList() } };
      }
      if (rest.length === 3 && first === "settings" && second === "modules" && third) {
        requireScope("ZohoCRM.settings.modules.READ");
        return { status: 200, body: { modules: [moduleSettingsOf(moduleParam(new URLSearchParams({ module: third })))] } };
      }
      if (rest.length === 2 && first && second === "search" && first !== "settings") return searchRecords(first, q, can);
      if (rest.length === 2 && first && second && first !== "settings") return getRecord(first, second, q, can);
      if (rest.length === 3 && first && second && third === "Emails" && first !== "settings") return getEmails(first, second, q, can, identity);
      if (rest.length === 4 && first && second && third === "Emails" && rest[3]) return getEmail(first, second, rest[3], q, can, identity);
      if (rest.length === 4 && first && second && third === "Attachments" && rest[3]) return getAttachmentFile(first, second, rest[3], can);
      if (rest.length === 3 && first && second && third && first !== "settings") return getRelatedRecords(first, second, third, q, ifModifiedSince, can);
    }
    throw new ZohoError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one");
  }

  // ------------------------------------------------------------ endpoints

  /** Get Records, the first page only: what `doctor` needs to find a record to try. */
  function getRecords(module: string, q: URLSearchParams, can: Permissions): Reply {
    assertModule(module);
    assertReadable(module, can);
    const fields = q.get("fields");
    if (!fields) throw new ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", { param_name: "fields" });
    const perPage = Number(q.get("per_page") ?? MAX_PER_PAGE);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) throw invalidParam("per_page");
    const rows = sortedRows(data.list(module).filter((r) => !can.hiddenRecordIds.has(r.id)), "id", "desc");
    if (rows.length === 0) return { status: 204 };
    const page = rows.slice(0, perPage);
    return {
      status: 200,
      body: {
        data: page.map((r) => pick(r, splitList(fields), false)),
        info: { per_page: perPage, count: page.length, page: 1, sort_by: "id", sort_order: "desc", more_records: rows.length > perPage, next_page_token: null, previous_page_token: null, page_token_expiry: null },
      },
    };
  }

  /**
   * Search Records: the first of criteria, email, phone, word (src/demo/search.ts); `converted`
   * (default false) and `approved` (default true; every demo record is approved); pages of up to 200
   * within record 2000; `fields` optional; the records the user may not see are never found; 204
   * when nothing matches.
   */
  function searchRecords(module: string, q: URLSearchParams, can: Permissions): Reply {
    // Zoho's Search Records page: the module's scope and ZohoSearch.securesearch.READ.
    requireScope("ZohoSearch.securesearch.READ");
    assertModule(module);
    assertReadable(module, can);
    let matches: (r: DemoRecord) => boolean;
    try {
      matches = searchPredicate(module, q);
    } catch (error) {
      if (error instanceof SearchError) throw new ZohoError(400, error.code, error.message, error.details);
      throw error;
    }
    const converted = q.get("converted") ?? "false";
    if (!["true", "false", "both"].includes(converted)) throw invalidParam("converted");
    const approved = q.get("approved") ?? "true";
    if (!["true", "false", "both"].includes(approved)) throw invalidParam("approved");
    const perPage = positiveInt(q, "per_page") ?? MAX_PER_PAGE;
    if (perPage > MAX_PER_PAGE) throw invalidParam("per_page");
    const page = positiveInt(q, "page") ?? 1;
    if (page * perPage > DISCRETE_PAGINATION_LIMIT) {
      throw new ZohoError(400, "LIMIT_REACHED", `Search Records reaches at most ${DISCRETE_PAGINATION_LIMIT} records`, { limit: DISCRETE_PAGINATION_LIMIT });
    }
    const fieldsParam = q.get("fields");
    const fields = fieldsParam === null ? undefined : splitList(fieldsParam);
    if (fields && fields.length > MAX_FIELDS) throw new ZohoError(400, "LIMIT_EXCEEDED", `you can request at most ${MAX_FIELDS} fields`, { param_name: "fields", limit: MAX_FIELDS });
    const rows = sortedRows(data.list(module), "id", "desc").filter(
      (r) =>
        !can.hiddenRecordIds.has(r.id) &&
        (converted === "both" || (r.data.$converted === true) === (converted === "true")) &&
        approved !== "false" &&
        matches(r),
    );
    const slice = rows.slice((page - 1) * perPage, page * perPage);
    if (slice.length === 0) return { status: 204 };
    return {
      status: 200,
      body: {
        // Zoho sends a record's $ keys ($converted, $approved...) whatever `fields` asks for.
        data: slice.map((r) => (fields ? { ...Object.fromEntries(Object.entries(r.data).filter(([k]) => k.startsWith("$"))), ...pick(r, fields, false) } : { ...r.data })),
        info: { per_page: perPage, count: slice.length, page, more_records: page * perPage < rows.length },
      },
    };
  }

  /** Get Users: `type=CurrentUser` is the self-client's user (the org's administrator), as on Zoho. */
  function getUsers(q: URLSearchParams, identity: DemoIdentity): Reply {
    requireScope("ZohoCRM.users.READ");
    const type = q.get("type") ?? "AllUsers";
    const current = identity === "service" ? CURRENT_USER : { ...CURRENT_USER, ...userOf(identity) };
    const users = type === "CurrentUser" ? [current] : type === "AllUsers" || type === "ActiveUsers" ? [current] : null;
    if (!users) throw invalidParam("type");
    return { status: 200, body: { users, info: { per_page: 200, count: users.length, page: 1, more_records: false } } };
  }

  function getRecord(module: string, id: string, q: URLSearchParams, can: Permissions): Reply {
    assertModule(module);
    assertReadable(module, can);
    if (can.hiddenRecordIds.has(id)) throw new ZohoError(403, "NO_PERMISSION", "permission denied", { id });
    const record = data.record(module, id);
    if (!record) throw invalidData("the id given seems to be invalid", { id });
    const fields = q.get("fields");
    const row = fields === null ? { ...record.data } : pick(record, splitList(fields), false);
    return { status: 200, body: { data: [row] } };
  }

  /** Zoho's Get Emails of a Record: `{"Emails":[...], "info":{...}}`, ten per call, by index; no `fields`. */
  function getEmails(module: string, recordId: string, q: URLSearchParams, can: Permissions, identity: DemoIdentity): Reply {
    requireScope("ZohoCRM.modules.emails.READ");
    assertModule(module);
    assertReadable(module, can);
    if (can.hiddenRecordIds.has(recordId)) throw new ZohoError(403, "NO_PERMISSION", "permission denied", { id: recordId });
    if (!relatedListsOf(module).some((l) => l.api_name === "Emails")) throw invalidData("the related list name given seems to be invalid", { api_name: "Emails" });
    if (!data.record(module, recordId)) throw invalidData("the related id given seems to be invalid", { id: recordId });
    const index = positiveInt(q, "index") ?? 1;
    const all = emailsOfType(module, data.emails(module, recordId), q, identity);
    const page = all.slice(index - 1, index - 1 + EMAILS_PER_CALL);
    if (page.length === 0) return { status: 204 };
    const more = index - 1 + page.length < all.length;
    return {
      status: 200,
      body: {
        Emails: page.map(({ content: _content, ...email }) => email),
        info: {
          per_page: EMAILS_PER_CALL,
          count: page.length,
          next_index: more ? String(index + EMAILS_PER_CALL) : null,
          prev_index: index > 1 ? String(Math.max(1, index - EMAILS_PER_CALL)) : null,
          more_records: more,
        },
      },
    };
  }

  /**
   * Get Emails' own filters (Zoho's get-email-rel-list page): `type` (sent_from_crm,
   * scheduled_in_crm, drafts, user_emails; all_contacts_* on Accounts only) and `owner_id`, only
   * with type=user_emails. Without `type`, every email: the users' and those sent from CRM.
   */
  function emailsOfType(module: string, all: ReadonlyArray<Readonly<Record<string, unknown>>>, q: URLSearchParams, identity: DemoIdentity): ReadonlyArray<Readonly<Record<string, unknown>>> {
    const type = q.get("type");
    const ownerId = q.get("owner_id");
    const TYPES = ["sent_from_crm", "scheduled_in_crm", "drafts", "user_emails", "all_contacts_sent_crm_emails", "all_contacts_scheduled_crm_emails", "all_contacts_draft_crm_emails"];
    if (type !== null && (!TYPES.includes(type) || (type.startsWith("all_contacts_") && module !== "Accounts"))) throw invalidParam("type");
    if (ownerId !== null && (type !== "user_emails" || !/^\d+$/.test(ownerId))) throw invalidParam("owner_id");
    const statusIs = (e: Readonly<Record<string, unknown>>, kind: string) => (e.status as Array<{ type?: string }> | undefined)?.some((st) => st.type === kind) === true;
    const ownerOf = (e: Readonly<Record<string, unknown>>) => (e.owner as { id?: string } | undefined)?.id;
    switch (type) {
      case null: return all;
      case "sent_from_crm": return all.filter((e) => e.source === "crm_mail" && !statusIs(e, "scheduled") && !statusIs(e, "draft"));
      case "scheduled_in_crm": return all.filter((e) => statusIs(e, "scheduled"));
      case "drafts": return all.filter((e) => statusIs(e, "draft"));
      case "user_emails": return all.filter((e) => e.source !== "crm_mail" && ownerOf(e) === (ownerId ?? userIdOf(identity)));
      default: return []; // the account's contacts' emails: the demo's accounts have none
    }
  }

  /**
   * Zoho's View Email: the one email, `content` included. An email of another user's mailbox is
   * found only with that user's `user_id` (Zoho's view-email page: "mandatory for viewing shared
   * email id from others"); without it the demo answers as if the message were not the caller's,
   * INVALID_DATA (the page does not show that answer: our choice). A message id the record does
   * not have at all is 204, no content, which Zoho's OpenAPI email_related_records.json lists for
   * this path.
   */
  function getEmail(module: string, recordId: string, messageId: string, q: URLSearchParams, can: Permissions, identity: DemoIdentity): Reply {
    requireScope("ZohoCRM.modules.emails.READ");
    assertModule(module);
    assertReadable(module, can);
    if (can.hiddenRecordIds.has(recordId)) throw new ZohoError(403, "NO_PERMISSION", "permission denied", { id: recordId });
    if (!data.record(module, recordId)) throw invalidData("the related id given seems to be invalid", { id: recordId });
    const email = data.emails(module, recordId).find((e) => e.message_id === messageId);
    if (!email) return { status: 204 };
    const owner = (email.owner as { id?: string } | undefined)?.id;
    const userId = q.get("user_id");
    if (userId !== null && !/^\d+$/.test(userId)) throw invalidParam("user_id");
    if (owner !== undefined && owner !== (userId ?? userIdOf(identity))) throw invalidData("the message id given seems to be invalid", { message_id: messageId });
    return { status: 200, body: { Emails: [email] } };
  }

  /** Zoho's Get Attachment: the file itself, with its content type. */
  function getAttachmentFile(module: string, recordId: string, attachmentId: string, can: Permissions): Reply {
    assertModule(module);
    assertReadable(module, can);
    if (can.hiddenRecordIds.has(recordId)) throw new ZohoError(403, "NO_PERMISSION", "permission denied", { id: recordId });
    if (!data.record(module, recordId)) throw invalidData("the related id given seems to be invalid", { id: recordId });
    const file = data.file(module, recordId, attachmentId);
    // An attachment id the record does not have: "204 No Content - Invalid attachment ID" (Zoho's
    // OpenAPI attachments.json, GET /{module}/{record_id}/Attachments/{id}).
    if (!file) return { status: 204 };
    return { status: 200, file };
  }

  function getRelatedRecords(module: string, recordId: string, listName: string, q: URLSearchParams, ifModifiedSince: string | undefined, can: Permissions): Reply {
    assertModule(module);
    // A related list that is missing or hidden in the layout answers INVALID_DATA (Zoho's note).
    const list = relatedListsOf(module).find((l) => l.api_name === listName);
    if (!list || list.status !== "visible") throw invalidData("the related list name given seems to be invalid", { api_name: listName });
    if (list.module) assertReadable(list.module.api_name, can);
    if (can.hiddenRecordIds.has(recordId)) throw new ZohoError(403, "NO_PERMISSION", "permission denied", { id: recordId });
    if (!data.record(module, recordId)) throw invalidData("the related id given seems to be invalid", { id: recordId });

    const p = parseRelatedParams(q, ifModifiedSince);
    const binding = bindingOf(module, recordId, listName, p);
    let offset: number;
    if (p.pageToken !== undefined) {
      offset = readPageToken(p.pageToken, binding);
    } else {
      const page = p.page ?? 1;
      if (page * p.perPage > DISCRETE_PAGINATION_LIMIT) {
        throw new ZohoError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED", `you cannot fetch more than ${DISCRETE_PAGINATION_LIMIT} records with the page param; use page_token (next_page_token of the previous response)`, { limit: DISCRETE_PAGINATION_LIMIT });
      }
      offset = (page - 1) * p.perPage;
    }
    if (offset >= PAGINATION_LIMIT) {
      throw new ZohoError(400, "PAGINATION_LIMIT_EXCEEDED", `you cannot fetch more than ${PAGINATION_LIMIT} records`, { limit: PAGINATION_LIMIT });
    }

    const { sortBy, sortOrder } = effectiveSort(listName, p);
    let rows = sortedRows(data.related(module, recordId, listName) ?? [], sortBy, sortOrder);
    if (can.hiddenRecordIds.size > 0) rows = rows.filter((r) => !can.hiddenRecordIds.has(r.id));
    if (p.ids) { const wanted = p.ids; rows = rows.filter((r) => wanted.has(r.id)); }
    if (list.module?.api_name === "Leads" && p.converted !== "both") {
      const converted = p.converted === "true";
      rows = rows.filter((r) => (r.data.$converted === true) === converted);
    }
    if (p.ifModifiedSince !== undefined) {
      const since = p.ifModifiedSince;
      const modified = rows.filter((r) => r.modifiedMs > since);
      if (rows.length > 0 && modified.length === 0) return { status: 304 };
      rows = modified;
    }

    const pageRows = rows.slice(offset, offset + p.perPage);
    if (pageRows.length === 0) return { status: 204 };

    const moreRecords = offset + pageRows.length < rows.length;
    const next = moreRecords ? mintPageToken(offset + p.perPage, binding) : null;
    const previous = offset > 0 ? mintPageToken(Math.max(0, offset - p.perPage), binding) : null;
    return {
      status: 200,
      body: {
        data: pageRows.map((r) => pick(r, p.fields, list.type === "grouped")),
        info: {
          per_page: p.perPage,
          count: pageRows.length,
          page: Math.floor(offset / p.perPage) + 1,
          more_records: moreRecords,
          next_page_token: next,
          previous_page_token: previous,
          page_token_expiry: next || previous ? zohoTime(Date.now() + PAGE_TOKEN_TTL_MS) : null,
        },
      },
    };
  }

  // ------------------------------------------------------------ page tokens
  // An opaque token: base64url(JSON{offset, binding hash, expiry}) + "." + HMAC. The binding hash
  // covers every parameter that shapes the result, so reusing a token with other parameters is
  // TOKEN_BOUND_DATA_MISMATCH instead of silently returning a different slice.

  function mintPageToken(offset: number, binding: string): string {
    const payload = Buffer.from(JSON.stringify({ o: offset, b: binding, e: Date.now() + PAGE_TOKEN_TTL_MS })).toString("base64url");
    return `${payload}.${sign(payload)}`;
  }

  function readPageToken(token: string, binding: string): number {
    const garbled = () => invalidData("the given page_token is invalid", { param_name: "page_token" });
    const [payload, signature, extra] = token.split(".");
    if (!payload || !signature || extra !== undefined) throw garbled();
    const expected = Buffer.from(sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw garbled();
    let parsed: { o?: unknown; b?: unknown; e?: unknown };
    try { parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof parsed; } catch { throw garbled(); }
    if (typeof parsed.o !== "number" || typeof parsed.b !== "string" || typeof parsed.e !== "number") throw garbled();
    if (parsed.e <= Date.now()) throw new ZohoError(400, "EXPIRED_VALUE", "the given page_token has expired", { param_name: "page_token" });
    if (parsed.b !== binding) {
      throw new ZohoError(400, "TOKEN_BOUND_DATA_MISMATCH", "the page_token was issued for different request parameters; repeat them exactly or start again without page_token", { param_name: "page_token" });
    }
    return parsed.o;
  }

  function sign(payload: string): string {
    return createHmac("sha256", pageTokenKey).update(payload).digest("base64url");
  }

  // ------------------------------------------------------------ server

  const server = createServer((req, res) => {
    const requestUrl = new URL(req.url ?? "/", "http://127.0.0.1");
    const handled = requestUrl.pathname === "/oauth/v2/token" ? handleToken(req, res, requestUrl)
      : requestUrl.pathname === "/oauth/v2/token/revoke" ? Promise.resolve(handleRevoke(req, res, requestUrl))
      : requestUrl.pathname === "/oauth/v2/auth" ? accounts.handleAuth(req, res, requestUrl, url, () => readBody(req))
      : requestUrl.pathname.startsWith("/crm/") ? handleCrm(req, res, requestUrl)
      : Promise.resolve(sendError(res, new ZohoError(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")));
    handled.catch(() => {
      if (!res.headersSent) sendError(res, new ZohoError(500, "INTERNAL_ERROR", "Internal Server Error"));
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => { server.off("error", reject); resolve(); });
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    faults,
    stats,
    resetStats() {
      stats.tokenRequests = 0;
      stats.tokensIssued = 0;
      stats.revocations = 0;
      stats.crmRequests = 0;
      // inFlight describes live requests, so it is kept; the high-water mark restarts from it.
      stats.maxInFlight = stats.inFlight;
      stats.requests.length = 0;
    },
    expireAllTokens() {
      tokens.clear();
    },
    issueAccessToken: mintAccessToken,
    issuedAccessTokens: () => [...minted],
    issueGrantCode: (ttlMs = GRANT_CODE_TTL_MS) => {
      const code = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
      grantCodes.set(code, Date.now() + ttlMs);
      return code;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hung and keep-alive connections would hold server.close() open: cut them.
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

// ---------------------------------------------------------------- parameters

interface RelatedParams {
  fields: string[];
  perPage: number;
  page: number | undefined;
  pageToken: string | undefined;
  /** undefined: the list's own order (id, or the activity time in the chronological views). */
  sortBy: string | undefined;
  sortOrder: "asc" | "desc" | undefined;
  ids: Set<string> | undefined;
  converted: "true" | "false" | "both";
  ifModifiedSince: number | undefined;
}

function parseRelatedParams(q: URLSearchParams, ifModifiedSince: string | undefined): RelatedParams {
  const fieldsParam = q.get("fields");
  const fields = fieldsParam === null ? [] : splitList(fieldsParam);
  if (fields.length === 0) throw new ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", { param_name: "fields" });
  if (fields.length > MAX_FIELDS) throw new ZohoError(400, "LIMIT_EXCEEDED", `you can request at most ${MAX_FIELDS} fields`, { param_name: "fields", limit: MAX_FIELDS });

  const perPage = positiveInt(q, "per_page") ?? MAX_PER_PAGE;
  if (perPage > MAX_PER_PAGE) throw invalidParam("per_page");
  const page = positiveInt(q, "page");
  const pageToken = q.get("page_token") ?? undefined;
  if (pageToken === "") throw invalidParam("page_token");
  if (page !== undefined && pageToken !== undefined) {
    throw new ZohoError(400, "AMBIGUITY_DURING_PROCESSING", "page and page_token cannot be used together", { ambiguity_due_to: ["page", "page_token"] });
  }

  const sortBy = q.get("sort_by") ?? undefined;
  if (sortBy !== undefined && !SORT_BY.has(sortBy)) throw invalidParam("sort_by");
  const sortOrder = q.get("sort_order") ?? undefined;
  if (sortOrder !== undefined && sortOrder !== "asc" && sortOrder !== "desc") throw invalidParam("sort_order");

  const idsParam = q.get("ids");
  let ids: Set<string> | undefined;
  if (idsParam !== null) {
    const list = splitList(idsParam);
    if (list.length === 0 || !list.every((id) => /^\d+$/.test(id))) throw invalidParam("ids");
    ids = new Set(list);
  }

  const converted = q.get("converted") ?? "false";
  if (converted !== "true" && converted !== "false" && converted !== "both") throw invalidParam("converted");

  let since: number | undefined;
  if (ifModifiedSince !== undefined) {
    since = Date.parse(ifModifiedSince);
    if (Number.isNaN(since)) throw invalidParam("If-Modified-Since");
  }
  return { fields, perPage, page, pageToken, sortBy, sortOrder, ids, converted, ifModifiedSince: since };
}

function positiveInt(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw invalidParam(name);
  return value;
}

function splitList(raw: string): string[] {
  return raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Everything a page token is bound to, normalised so equivalent requests match. */
/**
 * The order a list is read in. The chronological views follow the activities' own times when no
 * sort_by is given: upcoming first for the open ones, most recent first for the closed ones. Other
 * lists: Zoho's default, id desc.
 */
function effectiveSort(list: string, p: RelatedParams): { sortBy: string; sortOrder: "asc" | "desc" } {
  const chronological = list.startsWith("Activities_Chronological_View") && p.sortBy === undefined;
  return {
    sortBy: p.sortBy ?? (chronological ? ACTIVITY_TIME : "id"),
    sortOrder: p.sortOrder ?? (chronological && list === "Activities_Chronological_View" ? "asc" : "desc"),
  };
}

function bindingOf(module: string, recordId: string, list: string, p: RelatedParams): string {
  const { sortBy, sortOrder } = effectiveSort(list, p);
  const canonical = JSON.stringify([
    module, recordId, list, [...new Set(p.fields)].sort(), p.perPage, sortBy, sortOrder,
    p.ids ? [...p.ids].sort() : null, p.converted, p.ifModifiedSince ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 22);
}

// ---------------------------------------------------------------- modules, rows, sorting

function assertModule(module: string): void {
  if (UNSUPPORTED_MODULES.has(module)) throw new ZohoError(400, "NOT_SUPPORTED", "the given module is not supported in api", { resource_path_index: 0 });
  if (!CRM_MODULES.has(module)) throw new ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid", { resource_path_index: 0 });
}

type Permissions = ReturnType<typeof permissionsOf>;

function assertReadable(module: string, can: Permissions): void {
  if (module === "Invoices" && can.readsInvoices) return;
  const restriction = RESTRICTED_MODULES[module];
  if (restriction) throw new ZohoError(restriction.status, restriction.code, restriction.message, restriction.details);
}

function moduleParam(q: URLSearchParams): string {
  const module = q.get("module");
  if (!module) throw new ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", { param_name: "module" });
  if (UNSUPPORTED_MODULES.has(module)) throw new ZohoError(400, "NOT_SUPPORTED", "the given module is not supported in api", { param_name: "module" });
  if (!CRM_MODULES.has(module)) throw new ZohoError(400, "INVALID_MODULE", "the module name given seems to be invalid", { param_name: "module" });
  return module;
}

/** `id` plus the requested fields the record has; activity rows also say which module they are. */
function pick(record: DemoRecord, fields: readonly string[], withModule: boolean): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const field of fields) {
    if (field !== "id" && Object.hasOwn(record.data, field)) row[field] = record.data[field];
  }
  row.id = record.id;
  if (withModule) row.$module = record.module;
  return row;
}

// Sorting 10,500 notes on every page of a benchmark would dominate it: cache each order per list.
const SORT_CACHE = new WeakMap<readonly DemoRecord[], Map<string, readonly DemoRecord[]>>();

function sortedRows(rows: readonly DemoRecord[], sortBy: string, order: "asc" | "desc"): readonly DemoRecord[] {
  let byKey = SORT_CACHE.get(rows);
  if (!byKey) { byKey = new Map(); SORT_CACHE.set(rows, byKey); }
  const key = `${sortBy}:${order}`;
  let sorted = byKey.get(key);
  if (!sorted) {
    const value = (r: DemoRecord) =>
      sortBy === "Created_Time" ? r.createdMs : sortBy === "Modified_Time" ? r.modifiedMs : sortBy === ACTIVITY_TIME ? activityTime(r) : 0;
    const ascending = [...rows].sort((a, b) => value(a) - value(b) || compareIds(a.id, b.id));
    sorted = order === "asc" ? ascending : ascending.reverse();
    byKey.set(key, sorted);
  }
  return sorted;
}

/** Not a Zoho sort_by value: the demo's key for the chronological views' own order. */
const ACTIVITY_TIME = "$activity_time";

function activityTime(r: DemoRecord): number {
  const when = r.data.Call_Start_Time ?? r.data.Start_DateTime ?? r.data.Due_Date;
  return typeof when === "string" ? Date.parse(when) : 0;
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

// ---------------------------------------------------------------- HTTP helpers

const ORG = {
  id: "4876876000000019001",
  zgid: "71245392",
  domain_name: "demo-zylker",
  company_name: "Zylker Demo",
  primary_email: "patricia.boyle@zylker-demo.com",
  primary_zuid: "71245395",
  country: "United States",
  country_code: "US",
  time_zone: "Asia/Kolkata",
  currency: "US Dollar - USD",
  currency_symbol: "$",
  iso_code: "USD",
  type: "production",
  mc_status: false,
  license_details: { paid: true, paid_type: "enterprise", trial_type: null, users_license_purchased: 25 },
};

/** The self-client's user, in the shape of Zoho's Users API (a subset of its keys). */
const CURRENT_USER = {
  id: "4876876000000327001",
  zuid: "71245395",
  full_name: "Patricia Boyle",
  first_name: "Patricia",
  last_name: "Boyle",
  email: "patricia.boyle@zylker-demo.com",
  status: "active",
  confirm: true,
  role: { name: "CEO", id: "4876876000000026005" },
  profile: { name: "Administrator", id: "4876876000000026011" },
  locale: "en_US",
  time_zone: "Asia/Kolkata",
  country_locale: "en_US",
};

/** The Zoho user id behind a demo access token: the self-client's user is Patricia. */
function userIdOf(identity: DemoIdentity): string {
  return identity === "service" ? CURRENT_USER.id : DEMO_USERS[identity].id;
}

/** A signed-in demo user (per-user sign-in), in the same shape. */
function userOf(identity: DemoSignInUserKey): Record<string, unknown> {
  const user = DEMO_SIGNIN_USERS[identity];
  const [firstName = "", ...lastName] = user.name.split(" ");
  return {
    id: DEMO_USERS[identity].id,
    full_name: user.name,
    first_name: firstName,
    last_name: lastName.join(" "),
    email: user.email,
    role: { name: user.role, id: identity === "patricia" ? "4876876000000026005" : "4876876000000026007" },
    profile: identity === "patricia" ? CURRENT_USER.profile : { name: "Standard", id: "4876876000000026014" },
  };
}

function tooManyRequests(): ZohoError {
  return new ZohoError(429, "TOO_MANY_REQUESTS", "The number of concurrent or total API requests exceeded the limit of your edition");
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json;charset=UTF-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, error: ZohoError, headers: Record<string, string> = {}): void {
  sendJson(res, error.status, { code: error.code, details: error.details, message: error.message, status: "error" }, headers);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > 64 * 1024) { reject(new Error("token request body too large")); req.destroy(); return; }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Headers as recorded in stats: lowercased by node, arrays joined, the token never kept. */
function recordableHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const auth = headers.authorization;
  if (auth !== undefined) headers.authorization = `${auth.split(" ")[0] ?? ""} ***`;
  return headers;
}
