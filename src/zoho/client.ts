import type { KyInstance } from "ky";
import pLimit, { type LimitFunction } from "p-limit";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { attachmentContentType } from "./attachments.js";
import { TokenManager, accessTokenExpired } from "./auth.js";
import { MAX_RETRY_AFTER_MS, ZohoError, deadlineExceeded, fitToMode, isErrorEntry, retryAfterSeconds, scopeHint, tooManyRequestsHint, zohoErrorOf, type ZohoErrorBody } from "./errors.js";
import { loadKy } from "./ky.js";

/** A module or related-list API name: what Zoho itself allows, so a path can never be steered. */
export const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
/** A Zoho record id: digits only. */
export const RECORD_ID = /^[0-9]{1,30}$/;

/** Builds a path under /crm/v7 from checked segments (belt and braces behind the input schemas). */
export function crmPath(...segments: Array<{ apiName: string } | { recordId: string } | { literal: string }>): string {
  return segments
    .map((s) => {
      if ("literal" in s) return s.literal;
      const [value, ok] = "apiName" in s ? [s.apiName, API_NAME.test(s.apiName)] : [s.recordId, RECORD_ID.test(s.recordId)];
      if (!ok) throw new ZohoError({ code: "INVALID_URL_PATTERN", message: `refusing to build a Zoho URL from ${JSON.stringify(value)}` });
      return value;
    })
    .join("/");
}

export interface ZohoResponse {
  status: number;
  /** Parsed JSON; null for 204 (empty list) and 304 (not modified). */
  body: Record<string, unknown> | null;
}

export interface ZohoFile {
  contentType: string;
  bytes: Uint8Array;
  /** From Content-Disposition, when Zoho names the file. */
  fileName: string | undefined;
}

export interface RequestOptions {
  searchParams?: Record<string, string | number | undefined>;
  headers?: Record<string, string | undefined>;
  signal?: AbortSignal | undefined;
}

/** Zoho says these about a token that a fresh one fixes; OAUTH_SCOPE_MISMATCH is not among them. */
const REFRESHABLE_401 = new Set(["INVALID_TOKEN", "AUTHENTICATION_FAILURE"]);

/**
 * Where the client's access tokens come from: the process's own TokenManager (self-client), or in
 * per-user sign-in mode one user's token (src/oauth/sessions.ts).
 */
export interface TokenSource {
  readonly canRefresh: boolean;
  readonly apiDomain: string | undefined;
  /** Refreshes this source made (figures for tests and the benchmark). */
  readonly refreshes: number;
  /** When the cached token is due for renewal (epoch ms), if this source renews tokens. */
  readonly renewsAt?: number | undefined;
  get(): Promise<string>;
  confirm(token: string | undefined): void;
  refreshMayHelp(token: string | undefined): boolean;
  invalidate(token: string | undefined): void;
  /** The error for a token Zoho refused that cannot be refreshed here. */
  refusedError?(status: number): ZohoError;
}

/**
 * A concurrency cap: runs `work` once it holds a slot. Work whose `signal` aborts while it waits is
 * never run, and its caller leaves the queue at once: a cancelled call takes no slot that others
 * (or, with MCP_REDIS_URL, other replicas) wait for.
 */
export type Cap = <T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>;

/** A p-limit as a Cap: p-limit cannot drop one queued item, so an abandoned one is skipped when its turn comes. */
export function capOf(limit: LimitFunction): Cap {
  return <T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    if (!signal) return limit(work);
    return new Promise<T>((resolve, reject) => {
      const leave = () => reject(signal.reason);
      if (signal.aborted) return leave();
      signal.addEventListener("abort", leave, { once: true });
      limit(() => {
        signal.removeEventListener("abort", leave);
        return signal.aborted ? Promise.reject(signal.reason) : work();
      }).then(resolve, reject);
    });
  };
}

/**
 * Per-user clients (sign-in mode) share the process's cap and get their own share of it; with
 * MCP_REDIS_URL the cap is the organization's, across replicas (src/redis/semaphore.ts).
 */
export interface ClientParts {
  tokens?: TokenSource;
  /** Wraps each attempt: the cap (process-wide, or across replicas), and the user's fair share of it. */
  limit?: Cap;
  /** How many requests this client may have in flight (its share of ZOHO_CONCURRENCY). */
  concurrency?: number;
}

/** A concurrency cap shared by several processes (MCP_REDIS_URL: src/redis/semaphore.ts). */
export interface SharedCap {
  /**
   * Runs `work` holding a slot of the shared cap, and one of `user`'s `perUser` when a user is
   * named; gives up waiting (and takes no slot) once `signal` aborts.
   */
  run<T>(user: string | undefined, perUser: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * This process's cap (`local`) around a slot of the shared one: a process never asks the shared
 * cap for more slots than it can use, and its own queue keeps its callers in order.
 */
export function withSharedCap(local: Cap, shared: SharedCap | undefined, user?: { key: string; perUser: number }): Cap {
  if (!shared) return local;
  return (work, signal) => local(() => shared.run(user?.key, user?.perUser ?? 0, work, signal), signal);
}

/**
 * The one HTTP client for Zoho CRM: ky with the OAuth header from a hook, ky's own retry for
 * 429/5xx (Retry-After honoured) and for one timeout, a per-attempt timeout, and one concurrency
 * cap around every attempt (the process's, or with MCP_REDIS_URL every replica's together).
 */
export class ZohoClient {
  readonly tokens: TokenSource;
  private http: Promise<KyInstance> | undefined;
  private readonly limit: Cap;
  private readonly logger: Logger;

  /** Most requests in flight at once (ZOHO_CONCURRENCY): a walk starts no more pages than this together. */
  get concurrency(): number {
    return this.parts?.concurrency ?? this.config.concurrency;
  }

  constructor(private readonly config: Config, logger: Logger, private readonly parts?: ClientParts) {
    this.logger = logger;
    this.tokens = parts?.tokens ?? new TokenManager(config, logger);
    this.limit = parts?.limit ?? capOf(pLimit(config.concurrency));
  }

  /** The one ky instance, created with the first request (see ky.ts). */
  private client(): Promise<KyInstance> {
    return (this.http ??= this.createHttp());
  }

  private async createHttp(): Promise<KyInstance> {
    const { default: ky, HTTPError, TimeoutError } = await loadKy();
    const config = this.config;
    return ky.create({
      // ZOHO_TIMEOUT_MS is applied by attemptFetch once the attempt holds a slot: ky's own timeout
      // would also count the wait behind our cap and fail requests Zoho never saw as "too slow".
      timeout: false,
      // The cap wraps each attempt, body included, so a retry's backoff holds no slot and a slow
      // body download still counts as in flight (which is what Zoho's concurrency limit counts).
      // The request's signal carries the call's cancellation: a cancelled attempt still queued never starts.
      fetch: (input, init) => this.limit(() => attemptFetch(config.timeoutMs, responseMaxBytes(config), input as Request, init), (input as Request).signal),
      throwHttpErrors: (status) => status !== 304,
      retry: {
        limit: 2,
        methods: ["get"],
        statusCodes: [429, 500, 502, 503, 504],
        afterStatusCodes: [429, 503],
        // Retry-After beyond a minute is longer than a tool call should wait (shouldRetry gives up on it).
        maxRetryAfter: MAX_RETRY_AFTER_MS,
        backoffLimit: 8_000,
        jitter: true,
        retryOnTimeout: true,
        shouldRetry: ({ error, retryCount }) => {
          // A failed token refresh must not be repeated (Zoho's token limit); one retry is enough
          // for a request that timed out, the caller is waiting.
          if (error instanceof ZohoError) return false;
          if (error instanceof TimeoutError && retryCount > 1) return false;
          // Zoho asks for a longer wait than a call makes (the day's API credits spent): say so now.
          if (error instanceof HTTPError && error.response.status === 429 && (retryAfterSeconds(error.response.headers.get("retry-after")) ?? 0) * 1000 > MAX_RETRY_AFTER_MS) return false;
          return undefined;
        },
      },
      hooks: {
        beforeRequest: [
          async (request) => {
            request.headers.set("Authorization", `Zoho-oauthtoken ${await this.tokens.get()}`);
          },
        ],
        beforeRetry: [
          ({ request, error, retryCount }) => {
            const status = error instanceof HTTPError ? `HTTP ${error.response.status}` : error.name;
            this.logger.log("warning", `retrying ${describe(request.url)} after ${status} (retry ${retryCount})`);
          },
        ],
      },
    });
  }

  /** The API root: the user's pinned host, else the api_domain the token came with. */
  private async apiRoot(): Promise<string> {
    if (!this.config.apiDomainPinned && this.tokens.canRefresh && !this.tokens.apiDomain) await this.tokens.get();
    const domain = this.config.apiDomainPinned ? this.config.apiDomain : (this.tokens.apiDomain ?? this.config.apiDomain);
    return `${domain}/crm/v7`;
  }

  /** GET a path under /crm/v7. Every failure leaves as a ZohoError (or the caller's AbortError). */
  async get(path: string, options: RequestOptions = {}): Promise<ZohoResponse> {
    return this.send(path, options, async (response, url) => {
      if (response.status === 204 || response.status === 304) return { status: response.status, body: null };
      const body = parseJson(await response.text(), response.status);
      // Zoho also answers errors with HTTP 200: `{"data":[{"code",...,"status":"error"}]}`.
      const refused = zohoErrorOf(body, true);
      if (refused) throw this.fromZoho(response.status, refused, url);
      if (body && Array.isArray(body.data) && body.data.some(isErrorEntry)) {
        // Records and errors in one answer (not documented for reads): keep the records, say what was left out.
        const errors = body.data.filter(isErrorEntry) as Array<{ code: string }>;
        this.logger.log("warning", `Zoho answered ${describe(url)} with ${errors.length} error entr${errors.length === 1 ? "y" : "ies"} among the records (${[...new Set(errors.map((e) => e.code))].join(", ")}); they are left out`);
        body.data = body.data.filter((e) => !isErrorEntry(e));
      }
      return { status: response.status, body };
    });
  }

  /**
   * GET a file under /crm/v7 (an attachment): its bytes and its content type (Zoho's, or the file
   * name's when Zoho's only says "download", attachments.ts), refused with
   * FILE_TOO_LARGE above `maxBytes` (checked on Content-Length before the body is used, and on the
   * bytes). A JSON answer in Zoho's error form is Zoho's error, whatever the status. Undefined
   * when Zoho answers 204, no content.
   */
  async getFile(path: string, maxBytes: number, options: RequestOptions = {}): Promise<ZohoFile | undefined> {
    const file = this.send(path, options, async (response, url): Promise<ZohoFile | undefined> => {
      // No content: Zoho's answer for an attachment id the record does not have (undefined here).
      if (response.status === 204) return undefined;
      const contentType = response.headers.get("content-type") ?? "application/octet-stream";
      const fileName = fileNameOf(response.headers.get("content-disposition"));
      const tooLarge = async (size: number) =>
        new ZohoError({ status: response.status, code: "FILE_TOO_LARGE", message: `the file is ${size} bytes, above the ${maxBytes}-byte cap (ZOHO_MAX_ATTACHMENT_BYTES)`, details: await fileDetails(contentType, fileName) });
      const declared = Number(response.headers.get("content-length") ?? NaN);
      if (Number.isFinite(declared) && declared > maxBytes) throw await tooLarge(declared);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (/^application\/json/i.test(contentType)) {
        const refused = zohoErrorOf(jsonOrUndefined(new TextDecoder().decode(bytes)), true);
        if (refused) throw this.fromZoho(response.status, refused, url);
      }
      if (bytes.byteLength > maxBytes) throw await tooLarge(bytes.byteLength);
      return { contentType: await attachmentContentType(contentType, fileName), bytes, fileName };
    });
    // An answer past what the client reads of any answer (readCapped) is a file far above the cap.
    // Its name and type come from the headers readCapped kept: a chunked answer has no size to check first.
    return file.catch(async (error: unknown) => {
      if (!(error instanceof ZohoError) || error.code !== "RESPONSE_TOO_LARGE") throw error;
      const { content_type: type, content_disposition: disposition } = error.details as { content_type?: string; content_disposition?: string };
      throw new ZohoError({
        status: error.status,
        code: "FILE_TOO_LARGE",
        message: `the file is more than ${responseMaxBytes(this.config)} bytes, above the ${maxBytes}-byte cap (ZOHO_MAX_ATTACHMENT_BYTES)`,
        details: await fileDetails(type ?? "application/octet-stream", fileNameOf(disposition ?? null)),
      });
    });
  }

  /** One request with the token, the retries and the 401 refresh; `read` turns the answer into a result. */
  private async send<T>(path: string, options: RequestOptions, read: (response: Response, url: string) => Promise<T>): Promise<T> {
    let authRetried = false;
    const searchParams: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(options.searchParams ?? {})) if (v !== undefined) searchParams[k] = v;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined) headers[k] = v;

    try {
      const prefixUrl = await this.apiRoot();
      const http = await this.client();
      const response = await http.get(path, {
        prefixUrl,
        searchParams,
        headers,
        signal: options.signal,
        hooks: {
          afterResponse: [
            async (request, _options, response) => {
              const token = request.headers.get("Authorization")?.replace(/^Zoho-oauthtoken /, "");
              if (response.status !== 401) return void this.tokens.confirm(token);
              // A static token cannot be refreshed: toZohoError says so instead.
              if (authRetried || !this.tokens.canRefresh || !this.tokens.refreshMayHelp(token)) return;
              const code = await errorCode(response);
              if (!code || !REFRESHABLE_401.has(code)) return;
              authRetried = true;
              this.tokens.invalidate(token);
              this.logger.log("info", `Zoho answered 401 ${code}: getting a new access token and retrying once`);
              return (await loadKy()).default.retry({ delay: 0, code: "TOKEN_REFRESHED" });
            },
          ],
        },
      });
      return await read(response, `${prefixUrl}/${path}`);
    } catch (error) {
      throw fitToMode(await this.toZohoError(error, options.signal), this.config.auth.kind);
    }
  }

  /** The one way a Zoho verdict (any status, either body form) becomes a ZohoError: code, message, what to do. */
  private fromZoho(status: number, zoho: ZohoErrorBody, url: string, cause?: unknown, headers?: Headers): ZohoError {
    const { code, details } = zoho;
    const message = zoho.message || `Zoho answered HTTP ${status}`;
    const retryAfter = retryAfterSeconds(headers?.get("retry-after"));
    const waitedOut = status === 429 && retryAfter !== undefined && retryAfter * 1000 > MAX_RETRY_AFTER_MS;
    const retried = (status === 429 && !waitedOut) || status >= 500 ? " (after retries)" : "";
    const hint =
      code === "OAUTH_SCOPE_MISMATCH"
        ? scopeHint(new URL(url).pathname, this.config.auth.kind)
        : code === "INVALID_DATA" && details.param_name === "page_token"
          ? "The page_token is not valid here (garbled, another user's, or from another list): start again without page_token."
          : status === 429
            ? tooManyRequestsHint(message, retryAfter, this.config.auth.kind)
            : undefined;
    return new ZohoError({ status, code, message: message + retried, details, hint, cause });
  }

  private async toZohoError(error: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const { HTTPError, TimeoutError } = await loadKy();
    if (error instanceof ZohoError) return error;
    if (signal?.aborted) {
      // The tool call's deadline (AbortSignal.timeout) ran out: say which setting bounds it.
      if (signal.reason instanceof DOMException && signal.reason.name === "TimeoutError") {
        return deadlineExceeded(this.config.callTimeoutMs);
      }
      // The caller cancelled: pass its reason through untouched, it is not Zoho's failure.
      return signal.reason ?? error;
    }
    if (error instanceof HTTPError) {
      const status = error.response.status;
      const text = await error.response.text().catch(() => "");
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        /* a non-JSON error page: fall through with the status alone */
      }
      const zoho = zohoErrorOf(body) ?? { code: `HTTP_${status}`, message: "", details: {} };
      if (REFRESHABLE_401.has(zoho.code) && !this.tokens.canRefresh) {
        this.tokens.invalidate(new Headers(error.request.headers).get("Authorization")?.replace(/^Zoho-oauthtoken /, ""));
        return this.tokens.refusedError?.(status) ?? accessTokenExpired(status);
      }
      return this.fromZoho(status, zoho, error.request.url, error, error.response.headers);
    }
    if (error instanceof TimeoutError) {
      return new ZohoError({ code: "TIMEOUT", message: `Zoho did not answer within ZOHO_TIMEOUT_MS (${this.config.timeoutMs} ms), twice`, cause: error });
    }
    if (error instanceof Error && error.message.startsWith("Forced retry")) {
      // ky gave up after the forced 401 retry: the fresh token was refused as well.
      return new ZohoError({ status: 401, code: "INVALID_TOKEN", message: "Zoho refused a freshly issued access token", cause: error });
    }
    const reason = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
    return new ZohoError({ code: "NETWORK_ERROR", message: `could not reach Zoho (${reason})`, cause: error });
  }
}

/**
 * One attempt: fetch within `timeoutMs`, counted from the moment the attempt holds a concurrency
 * slot, with the body read before the slot is released. A timeout leaves as ky's TimeoutError, so
 * ky's retry policy (one retry after a timeout) applies unchanged. Statuses that may not carry a
 * body (204, 304) get none, as the Response constructor demands.
 */
async function attemptFetch(timeoutMs: number, maxBytes: number, request: Request, init?: RequestInit): Promise<Response> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    const response = await fetch(request, { ...init, signal: AbortSignal.any([request.signal, timeout.signal]) });
    const nullBody = response.status === 204 || response.status === 304;
    const body = nullBody ? null : await readCapped(response, maxBytes);
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  } catch (error) {
    if (timeout.signal.aborted && !request.signal.aborted) throw new (await loadKy()).TimeoutError(request);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The most bytes one answer may hold in memory: the attachment cap, and never less than 16 MiB (a full page of wide records). */
function responseMaxBytes(config: Config): number {
  return Math.max(config.maxAttachmentBytes, 16 * 1024 * 1024);
}

/**
 * The body, read up to `maxBytes`: a declared or streamed answer past it is cancelled at once and
 * leaves as RESPONSE_TOO_LARGE (not retried), so a huge or endless answer cannot fill the memory.
 */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  // The headers that say what the answer was go with the error: getFile names the file it left out.
  const tooLarge = (size: string) =>
    new ZohoError({
      status: response.status,
      code: "RESPONSE_TOO_LARGE",
      message: `Zoho's answer is ${size} bytes, more than the ${maxBytes} bytes this server reads of one answer`,
      details: { content_type: response.headers.get("content-type") ?? undefined, content_disposition: response.headers.get("content-disposition") ?? undefined },
    });
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(String(declared));
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(`over ${maxBytes}`);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

async function errorCode(response: Response): Promise<string | undefined> {
  try {
    return zohoErrorOf(await response.clone().json())?.code;
  } catch {
    return undefined;
  }
}

function parseJson(text: string, status: number): Record<string, unknown> | null {
  if (text.trim() === "") return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new ZohoError({ status, code: "INVALID_RESPONSE", message: "Zoho returned a response that is not valid JSON" });
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The file name of a download, from its Content-Disposition (`filename="a.pdf"` or `filename*=UTF-8''a.pdf`). */
function fileNameOf(disposition: string | null): string | undefined {
  const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? "")?.[1];
  return name ? safeDecode(name) : undefined;
}

/** What a file left out still says of itself: its name and type, from the headers alone. */
async function fileDetails(contentType: string, fileName: string | undefined): Promise<{ file_name?: string; content_type: string }> {
  return { file_name: fileName, content_type: (await attachmentContentType(contentType, fileName)).split(";")[0]!.trim() };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A request for logs: method and path only; query values (field lists, page tokens) would only add noise. */
function describe(url: string): string {
  const u = new URL(url);
  return `GET ${u.pathname}`;
}
