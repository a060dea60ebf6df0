import { redact } from "../log.js";

/**
 * What to do about each Zoho error code, from Zoho's own "Possible Errors" resolutions and the
 * facts its page leaves out. The model reads these, so they say what to change, not what broke.
 */
const RESOLUTIONS: Record<string, string> = {
  INVALID_MODULE:
    "Specify a valid module API name (case-sensitive, e.g. Leads, Accounts, Deals); the module may also lack tab permission or have been removed. list_related_lists shows a module's lists.",
  NOT_SUPPORTED: "This module (e.g. Documents, Projects) is not supported by Zoho's API. Use another module.",
  INVALID_URL_PATTERN:
    "The request URL is wrong. Check the module, record id and related list API names; a wrong data center (ZOHO_DC) also causes this.",
  OAUTH_SCOPE_MISMATCH:
    "The OAuth client lacks the scope for this data: grant ZohoCRM.modules.READ (or one ZohoCRM.modules.{module}.READ per module), ZohoCRM.settings.related_lists.READ, ZohoCRM.settings.fields.READ and ZohoCRM.settings.modules.READ, then create a new refresh token. Retrying will not help.",
  NO_PERMISSION:
    "The Zoho user does not have permission to read these related records. Ask the Zoho CRM administrator for access.",
  AUTHORIZATION_FAILED:
    "The Zoho user lacks the privilege to read these related records. Ask the Zoho CRM administrator for access.",
  INTERNAL_ERROR: "Zoho had an unexpected server error. Try again later; if it persists, contact Zoho support.",
  INVALID_REQUEST_METHOD: "Zoho rejected the HTTP method. This is a bug in the server; please report it.",
  REQUIRED_PARAM_MISSING: "A mandatory parameter is missing (Get Related Records needs fields). Pass it and try again.",
  INVALID_DATA:
    "Zoho rejected a value: the record id may not exist in this module, or the related list is missing or hidden in the layout. list_related_lists shows the module's related lists.",
  INVALID_TOKEN:
    "The access token was refused. If the token is fresh, the data center is probably wrong: set ZOHO_DC to the one your Zoho account lives in (us, eu, in, au, jp, cn, ca, sa, uk, ae).",
  AUTHENTICATION_FAILURE: "Zoho could not authenticate the request. Check the OAuth settings and the data center (ZOHO_DC).",
  LIMIT_EXCEEDED: "Too many values: ask for at most 50 fields.",
  DISCRETE_PAGINATION_LIMIT_EXCEEDED:
    "Past record 2000 only page_token works: use the next_page_token of the previous result instead of page.",
  AMBIGUITY_DURING_PROCESSING: "Use either page or page_token, never both.",
  TOKEN_BOUND_DATA_MISMATCH:
    "A page_token only works with the same fields, per_page, sort and filters as the call that returned it.",
  EXPIRED_VALUE: "The page_token has expired (they live 24 hours). Start again without page_token.",
  PAGINATION_LIMIT_EXCEEDED: "Zoho serves at most 100,000 records of one related list. Narrow the request with ids or If-Modified-Since.",
  INVALID_RESPONSE: "Zoho returned a response that is not valid JSON. Try again; if it persists, Zoho may be having an outage.",
  TIMEOUT: "Zoho did not answer in time. Try again, ask for fewer records, or raise ZOHO_TIMEOUT_MS.",
  DEADLINE_EXCEEDED:
    "The tool call ran out of time while Zoho was slow or rate limiting. Ask for fewer records (max_records) or try again in a minute; raise ZOHO_CALL_TIMEOUT_MS if this repeats.",
  NETWORK_ERROR: "Zoho could not be reached. Check the network and the data center (ZOHO_DC / ZOHO_API_DOMAIN).",
  TOKEN_REFRESH_FAILED:
    "Check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN, and that ZOHO_DC names the data center where the self-client was created.",
  REFRESH_RATE_LIMITED:
    "Zoho allows about 10 access tokens per 10 minutes per refresh token. Wait a few minutes before the next call.",
  FILE_TOO_LARGE:
    "The file is larger than this server hands to a client in one resource. Open it in Zoho CRM, or raise ZOHO_MAX_ATTACHMENT_BYTES if your MCP client can take it.",
  UNTRUSTED_API_DOMAIN:
    "The accounts server named an API host that is not Zoho's. Check ZOHO_ACCOUNTS_URL and ZOHO_DC; if your org really uses another API host, set ZOHO_API_DOMAIN to it.",
  ACCESS_TOKEN_EXPIRED:
    "ZOHO_ACCESS_TOKEN has expired and cannot be refreshed. Set a new one, or configure ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN so the server refreshes tokens itself.",
};

/**
 * What to do when View Email (`{module}/{id}/Emails/{message_id}`) finds no such email. Its
 * INVALID_DATA says nothing of which id; the usual cause is a colleague's email read without its
 * owner: Zoho's View Email page calls `user_id` "mandatory for viewing shared email id from others".
 */
export function emailNotFoundHint(withUserId: boolean): string {
  const list = "get_related_records with related_list_api_name Emails lists the record's emails, each with its link";
  return withUserId
    ? `Check the message_id and user_id: use the link exactly as the Emails row gave it (user_id is the row's owner.id); ${list}.`
    : `An email from another user's mailbox is read only with its owner: use the link the Emails row gave, which ends in ?user_id={owner.id}, or add ?user_id= with the row's owner.id. Otherwise check the message_id; ${list}.`;
}

/** Longest Retry-After a request waits out (ky's maxRetryAfter): past it, a tool call should not wait. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110); undefined
 * when absent or unreadable.
 */
export function retryAfterSeconds(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.round((at - now) / 1000));
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}

/**
 * What to do about HTTP 429 TOO_MANY_REQUESTS. Zoho answers both of its limits with this one code:
 * the org's concurrency limit (requests in flight at once, by edition; passes in seconds) and its
 * API credits per rolling 24 hours (passes only with time). Its pages give no separate code or
 * body, so the hint tells them apart only by what the answer carries: a Retry-After longer than a
 * tool call waits, or a message that names one of them. docs/zoho-compatibility.md, item 5.
 */
export function tooManyRequestsHint(message: string, retryAfter?: number, mode: AuthMode = "refresh", now = Date.now()): string {
  // Signed in per user, ZOHO_CONCURRENCY is the operator's setting, not the person's.
  const concurrency = mode === "signin" ? "the org's concurrency limit is shared with its other apps" : "lower ZOHO_CONCURRENCY if this repeats (the org's concurrency limit is shared with its other apps)";
  const credits = "Zoho CRM's API dashboard (Setup, Developer Hub, APIs) shows the credits used";
  if (retryAfter !== undefined && retryAfter * 1000 > MAX_RETRY_AFTER_MS) {
    return `Zoho asks to wait ${duration(retryAfter)} (Retry-After, until ${new Date(now + retryAfter * 1000).toISOString()}), longer than a tool call waits: the org's API credits for the rolling 24 hours are most likely spent, and only time (or more credits) helps; ${credits}.`;
  }
  if (/concurren/i.test(message) && !/credit|total/i.test(message)) return `Too many requests in flight at once for the org: retry in a few seconds with fewer parallel calls; ${concurrency}.`;
  if (/credit|per day|24.?hour/i.test(message) && !/concurren/i.test(message)) return `The org's API credits for the rolling 24 hours are spent: only time (or more credits) helps; ${credits}.`;
  const asked = retryAfter !== undefined ? `Zoho asked to wait ${duration(retryAfter)} (Retry-After) and still refused. ` : "";
  return `${asked}Zoho answers both of its limits with this code, and this answer does not say which: the concurrency limit passes in seconds (retry with fewer parallel calls; ${concurrency}); the API credits of the rolling 24 hours pass only with time (${credits}).`;
}

function resolutionFor(code: string): string | undefined {
  // A 429 gets its hint from the answer (client.ts); this is the one for an answer that says nothing.
  return code === "TOO_MANY_REQUESTS" ? tooManyRequestsHint("") : RESOLUTIONS[code];
}

/** Which identity the server holds at Zoho (config.auth.kind): advice about credentials depends on it. */
export type AuthMode = "refresh" | "static" | "signin";

/**
 * Where the self-client's advice does not fit: signed in per user (`--oauth`), no credential is a
 * setting the person can change (they sign in again; the operator owns the rest); with a bare
 * ZOHO_ACCESS_TOKEN there is no refresh token to create anew.
 */
const MODE_RESOLUTIONS: Record<Exclude<AuthMode, "refresh">, Record<string, string>> = {
  signin: {
    INVALID_URL_PATTERN: "The request URL is wrong. Check the module, record id and related list API names.",
    INVALID_TOKEN: "Zoho refused this sign-in's access token. Send the request again (your MCP client refreshes its token); if that is refused too, sign in again.",
    AUTHENTICATION_FAILURE: "Zoho could not authenticate this sign-in. Sign in again from your MCP client.",
    OAUTH_SCOPE_MISMATCH:
      "This sign-in's Zoho token lacks the scope for this data. Sign in again from your MCP client, so Zoho grants every scope this server asks for; if the error stays, the server does not ask for this scope: tell its operator. Retrying will not help.",
    // A 429 gets its hint from the answer, in this mode, in client.ts; this is for the code without a 429.
    TOO_MANY_REQUESTS: tooManyRequestsHint("", undefined, "signin"),
    TIMEOUT: "Zoho did not answer in time. Try again, or ask for fewer records.",
    DEADLINE_EXCEEDED: "The tool call ran out of time while Zoho was slow or rate limiting. Ask for fewer records (max_records) or try again in a minute.",
    NETWORK_ERROR: "The server could not reach Zoho. Try again in a minute; if it persists, tell the server's operator.",
    FILE_TOO_LARGE: "The file is larger than this server hands to a client in one resource. Open it in Zoho CRM.",
  },
  static: {
    OAUTH_SCOPE_MISMATCH:
      "The access token lacks the scope for this data: generate a new ZOHO_ACCESS_TOKEN with ZohoCRM.modules.READ, ZohoCRM.modules.emails.READ, ZohoCRM.settings.related_lists.READ, ZohoCRM.settings.fields.READ and ZohoCRM.settings.modules.READ (or set up a refresh token: zoho-crm-related-mcp setup). Retrying will not help.",
  },
};

/**
 * Zoho's scope name for each standard module (ZohoCRM.modules.{name}.READ), as its scopes page spells
 * them: no underscores (`salesorders`, `pricebooks`). Every other module is a custom one, whose scope
 * is `custom`.
 */
const MODULE_SCOPES: Record<string, string> = {
  Leads: "leads", Accounts: "accounts", Contacts: "contacts", Deals: "deals", Campaigns: "campaigns",
  Tasks: "tasks", Cases: "cases", Events: "events", Calls: "calls", Solutions: "solutions",
  Products: "products", Vendors: "vendors", Price_Books: "pricebooks", Quotes: "quotes",
  Sales_Orders: "salesorders", Purchase_Orders: "purchaseorders", Invoices: "invoices", Notes: "notes",
  Appointments__s: "appointments", Appointments_Rescheduled_History__s: "appointments_rescheduled_history", Services__s: "services",
  // Not modules, but lists with a scope of their own: Zoho's get-email-rel-list page (emails) and
  // its Attachments pages and the OpenAPI file attachments.json (attachments).
  Emails: "emails",
  Attachments: "attachments",
};

/** Lists whose records come from several modules: each module's scope (the activity views hold Tasks, Calls and Events). */
const LIST_SCOPES: Record<string, string[]> = {
  Activities_Chronological_View: ["tasks", "calls", "events"],
  Activities_Chronological_View_History: ["tasks", "calls", "events"],
};

/** The module part of ZohoCRM.modules.{name}.READ for a module API name. */
export function moduleScope(moduleApiName: string): string {
  return MODULE_SCOPES[moduleApiName] ?? "custom";
}

const AFTER_SCOPE: Record<AuthMode, string> = {
  refresh: ", then create a new refresh token with it. Retrying will not help.",
  static: ", then generate a new ZOHO_ACCESS_TOKEN with it. Retrying will not help.",
  signin: ". Sign in again from your MCP client, so Zoho grants every scope this server asks for; if the error stays, the server does not ask for this scope: tell its operator. Retrying will not help.",
};

/** `a`, `a and b`, `a, b and c`. */
function listed(names: string[]): string {
  return names.length < 2 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * The scope an OAUTH_SCOPE_MISMATCH calls for, read off the request's path under /crm/v7: Zoho's
 * own answer does not always name it, and a model cannot guess it. A list whose records' module
 * the path does not tell (a custom module's list, Stage_History) is named with the way to find it.
 */
export function scopeHint(path: string, mode: AuthMode = "refresh"): string {
  const [first, second, third] = path.replace(/^\/?crm\/v7\//, "").split("/");
  const who = mode === "signin" ? "This sign-in's Zoho token lacks" : "The OAuth client lacks";
  const grant = mode === "signin" ? "" : ": grant it";
  if (first === "settings" && second) return `${who} ZohoCRM.settings.${second}.READ${grant}${AFTER_SCOPE[mode]}`;
  // GET /org (the org's web name, for web addresses) has a scope of its own.
  if (first === "org") return `${who} ZohoCRM.org.READ${grant}${AFTER_SCOPE[mode]}`;
  // Search Records needs ZohoSearch.securesearch.READ beside the module's scope (Zoho's Search Records page).
  if (second === "search" && !third) return `${who} the scope to search this: ${mode === "signin" ? "" : "grant "}ZohoSearch.securesearch.READ and ZohoCRM.modules.READ (or ZohoCRM.modules.${moduleScope(first ?? "")}.READ)${AFTER_SCOPE[mode]}`;
  const scope = `ZohoCRM.modules.${moduleScope(first ?? "")}.READ`;
  const listScopes = !third ? [] : (LIST_SCOPES[third] ?? (MODULE_SCOPES[third] ? [MODULE_SCOPES[third]] : [])).map((s) => `ZohoCRM.modules.${s}.READ`);
  const wanted = [scope, ...listScopes.filter((s) => s !== scope)];
  const unknownList = third && !listScopes.length ? ` and the READ scope of the module the ${third} list holds (list_related_lists names it; ZohoCRM.modules.custom.READ for a custom module)` : "";
  return `${who} the scope to read this: ${mode === "signin" ? "" : "grant "}ZohoCRM.modules.READ, or ${listed(wanted)}${unknownList}${AFTER_SCOPE[mode]}`;
}

/** The error with advice that fits the server's mode, when the default advice is the self-client's. */
export function fitToMode(error: unknown, mode: AuthMode): unknown {
  if (!(error instanceof ZohoError) || mode === "refresh") return error;
  const hint = MODE_RESOLUTIONS[mode][error.code];
  if (!hint || error.hint !== resolutionFor(error.code)) return error;
  return new ZohoError({ status: error.status, code: error.code, message: error.message, details: error.details, hint, cause: error.cause });
}

/** Zoho's verdict in an answer body: what `ZohoError` is built from. */
export interface ZohoErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/**
 * Zoho's error in either form it documents: top level, `{"code","details","message","status":"error"}`,
 * or as the entries of a `data` array, `{"data":[{"code",...,"status":"error"}]}` (some 400s, and
 * inside HTTP 200 answers). For the array form, the first entry speaks for the answer, and only when
 * every entry is an error: a page of records is not an error.
 */
export function zohoErrorOf(body: unknown, inSuccess = false): ZohoErrorBody | undefined {
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  // Inside an HTTP 200 only `status: "error"` makes a top-level code an error.
  if (typeof b.code === "string" && b.code && (!inSuccess || b.status === "error")) return errorEntry(b);
  const data = b.data;
  if (Array.isArray(data) && data.length > 0 && data.every(isErrorEntry)) return errorEntry(data[0] as Record<string, unknown>);
  return undefined;
}

/** An entry of a `data` array that is Zoho's error, not a record. */
export function isErrorEntry(entry: unknown): boolean {
  if (!entry || typeof entry !== "object") return false;
  const e = entry as Record<string, unknown>;
  return e.status === "error" && typeof e.code === "string" && e.code !== "";
}

function errorEntry(e: Record<string, unknown>): ZohoErrorBody {
  return {
    code: String(e.code),
    message: typeof e.message === "string" ? e.message : "",
    details: e.details && typeof e.details === "object" && !Array.isArray(e.details) ? (e.details as Record<string, unknown>) : {},
  };
}

/** Every failure of a Zoho call, whatever its cause: HTTP error, bad body, timeout, OAuth. */
export class ZohoError extends Error {
  override name = "ZohoError";
  readonly status: number | undefined;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly hint: string | undefined;

  constructor(init: { status?: number; code: string; message: string; details?: Record<string, unknown>; hint?: string; cause?: unknown }) {
    super(redact(init.message), { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.hint = init.hint ?? resolutionFor(init.code);
  }

  /** The text a model reads in an isError result. */
  render(): string {
    const status = this.status ? ` (HTTP ${this.status})` : "";
    const details = Object.keys(this.details).length ? `\nDetails: ${redact(JSON.stringify(this.details))}` : "";
    const hint = this.hint ? `\nWhat to do: ${this.hint}` : "";
    return `Zoho error ${this.code}${status}: ${this.message}${details}${hint}`;
  }
}

/** The tool call's own deadline ran out (ZOHO_CALL_TIMEOUT_MS), whatever it was waiting for. */
export function deadlineExceeded(callTimeoutMs: number): ZohoError {
  return new ZohoError({ code: "DEADLINE_EXCEEDED", message: `the tool call did not finish within ZOHO_CALL_TIMEOUT_MS (${callTimeoutMs} ms)` });
}

/** Input the server refuses before any request; the message names the offending field. */
export class InputError extends Error {
  override name = "InputError";
}
