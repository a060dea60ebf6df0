import { createHash, randomBytes } from "node:crypto";
import { DATA_CENTERS } from "../config.js";
import { tokenLifetimeMs } from "../zoho/auth.js";
import { loadKy } from "../zoho/ky.js";

/**
 * The Zoho Accounts side of per-user sign-in, written by hand because it is Zoho's own dialect:
 * the consent URL, the code exchange at the user's own accounts server, refresh and revoke.
 * Zoho answers failures with HTTP 200 and `{"error": ...}`: the body decides, never the status.
 */

/** The scopes the tools need (read only), comma-separated as Zoho's consent URL wants them. */
export const ZOHO_SCOPES = [
  "ZohoCRM.modules.READ",
  // Zoho's Emails pages and its OpenAPI file ask for it beside the modules scope (zoho-compatibility.md).
  "ZohoCRM.modules.emails.READ",
  "ZohoCRM.settings.related_lists.READ",
  "ZohoCRM.settings.fields.READ",
  "ZohoCRM.settings.modules.READ",
  // GET /crm/v7/org: the org's web name in the records' web addresses (search_records, get_record).
  "ZohoCRM.org.READ",
  // search_records: Zoho's Search Records page asks for it beside the modules scope.
  "ZohoSearch.securesearch.READ",
].join(",");

export interface ZohoAccountsSettings {
  clientId: string;
  clientSecret: string;
  /** Where sign-in starts: ZOHO_ACCOUNTS_URL, or the accounts host of ZOHO_DC. */
  accountsUrl: string;
  /** `{MCP_PUBLIC_URL}/oauth/callback`, registered with the Zoho client. */
  redirectUri: string;
  timeoutMs: number;
}

/** Zoho's answer to a code exchange or a refresh, reduced to what we keep. */
export interface ZohoGrant {
  accessToken: string;
  /** Only in the code exchange's answer (`access_type=offline`). */
  refreshToken: string | undefined;
  expiresInSeconds: number;
  apiDomain: string | undefined;
}

/** Zoho refused (`error` from its body), or could not be asked. Never carries a token. */
export class AccountsError extends Error {
  override name = "AccountsError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Zoho's error code (`invalid_code`, `invalid_client`, `Access Denied`...) as we pass it on, in
 * logs and in the error_description a client sees: words alone, whole or not at all. Anything
 * else (a sentence, a token echoed back) is not ours to repeat, and cutting it short could leave
 * half a secret that redaction, which matches whole secrets, no longer recognises.
 */
export function zohoErrorCode(raw: string): string {
  const text = raw.trim();
  return /^[A-Za-z][A-Za-z _]{0,39}$/.test(text) ? text : "unrecognised error";
}

/** A PKCE verifier for the way to Zoho (RFC 7636: 43 to 128 characters; 32 random bytes give 43). */
export function newCodeVerifier(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * `verifier`: PKCE towards Zoho. Zoho's server-based flow takes it as an option ("optionally use
 * the authorization code flow with PKCE ... recommended for server-based apps as well", its
 * Server-based apps overview; the parameters as on its mobile-apps pages): a code caught on its
 * way back is then useless without the verifier, which only our sealed state carries.
 */
export function authorizationUrl(settings: ZohoAccountsSettings, state: string, verifier: string): string {
  const url = new URL(`${settings.accountsUrl}/oauth/v2/auth`);
  url.search = new URLSearchParams({
    scope: ZOHO_SCOPES,
    client_id: settings.clientId,
    response_type: "code",
    redirect_uri: settings.redirectUri,
    // offline: a refresh token comes with the code; consent: Zoho asks every time, so a refresh
    // token is issued every time (Zoho gives one only with a consent).
    access_type: "offline",
    prompt: "consent",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state,
  }).toString();
  return url.toString();
}

const KNOWN_ACCOUNTS_ORIGINS = new Set<string>(Object.values(DATA_CENTERS).map((dc) => dc.accounts));

/**
 * The accounts server a callback's code must be exchanged at, or undefined when it cannot be
 * trusted. Zoho names it in `accounts-server` for users of other data centers than the one sign-in
 * started at. The code and our client secret go to that host, so only Zoho's own accounts hosts are
 * accepted (https, the exact origin, no path), or exactly the configured ZOHO_ACCOUNTS_URL.
 */
export function trustedAccountsServer(given: string | null, configured: string): string | undefined {
  if (given === null || given === "") return configured;
  if (!URL.canParse(given)) return undefined;
  const url = new URL(given);
  const bare = url.pathname.replace(/\/+$/, "") === "" && !url.search && !url.hash && !url.username && !url.password;
  if (!bare) return undefined;
  if (url.origin === configured) return configured;
  return url.protocol === "https:" && KNOWN_ACCOUNTS_ORIGINS.has(url.origin) ? url.origin : undefined;
}

/** Exchanges the code Zoho's redirect brought back, at the accounts server it was issued by. */
export function exchangeCode(settings: ZohoAccountsSettings, accountsServer: string, code: string, verifier: string): Promise<ZohoGrant> {
  return tokenRequest(settings, accountsServer, {
    grant_type: "authorization_code",
    client_id: settings.clientId,
    client_secret: settings.clientSecret,
    redirect_uri: settings.redirectUri,
    code,
    code_verifier: verifier,
  });
}

export function refreshAccessToken(settings: ZohoAccountsSettings, accountsServer: string, refreshToken: string): Promise<ZohoGrant> {
  return tokenRequest(settings, accountsServer, {
    grant_type: "refresh_token",
    client_id: settings.clientId,
    client_secret: settings.clientSecret,
    refresh_token: refreshToken,
  });
}

/**
 * Revokes a refresh token (and with it every access token issued from it) at Zoho. Zoho takes the
 * token in the query string only; the answer is `{"status":"success"}`, or 400 for an unknown token,
 * which for revocation is success too (RFC 7009: already gone).
 */
export async function revokeToken(settings: ZohoAccountsSettings, accountsServer: string, token: string): Promise<void> {
  const { default: ky } = await loadKy();
  const response = await ky
    .post(`${accountsServer}/oauth/v2/token/revoke`, { searchParams: { token }, retry: 0, timeout: settings.timeoutMs, throwHttpErrors: false })
    .catch((error: unknown) => {
      throw new AccountsError("temporarily_unavailable", `could not reach ${accountsServer} to revoke the sign-in (${(error as Error).name})`);
    });
  if (response.status >= 500) throw new AccountsError("temporarily_unavailable", `${accountsServer} answered HTTP ${response.status} to the revocation`);
}

async function tokenRequest(settings: ZohoAccountsSettings, accountsServer: string, form: Record<string, string>): Promise<ZohoGrant> {
  const { default: ky } = await loadKy();
  let text: string;
  let status: number;
  try {
    // Never retried: a code is single-use, and refreshes count against Zoho's token limit.
    const response = await ky.post(`${accountsServer}/oauth/v2/token`, { body: new URLSearchParams(form), retry: 0, timeout: settings.timeoutMs, throwHttpErrors: false });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new AccountsError("temporarily_unavailable", `could not reach the Zoho accounts server ${accountsServer} (${(error as Error).name})`);
  }
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    /* below */
  }
  if (!body) throw new AccountsError("temporarily_unavailable", `the Zoho accounts server ${accountsServer} answered HTTP ${status} without a JSON body`);
  if (typeof body.access_token !== "string" || !body.access_token) {
    const code = typeof body.error === "string" ? zohoErrorCode(body.error) : "no access_token";
    throw new AccountsError(code, `Zoho refused: ${code}`);
  }
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === "string" && body.refresh_token ? body.refresh_token : undefined,
    // Read as the self-client's refresh reads it (expires_in is milliseconds beside expires_in_sec).
    expiresInSeconds: Math.floor(tokenLifetimeMs(body) / 1000),
    apiDomain: typeof body.api_domain === "string" && body.api_domain ? body.api_domain.replace(/\/+$/, "") : undefined,
  };
}
