import { apiDomainAccepted } from "./auth.js";
import { ZohoError } from "./errors.js";
import { loadKy } from "./ky.js";
import { registerSecret } from "../log.js";

/** What the tools need, then what setup itself reads to show whose CRM it reached. */
export const SETUP_SCOPES = [
  "ZohoCRM.modules.READ",
  // The Emails list and the email itself: Zoho's Emails pages name it beside the modules scope.
  "ZohoCRM.modules.emails.READ",
  "ZohoCRM.settings.related_lists.READ",
  "ZohoCRM.settings.fields.READ",
  "ZohoCRM.settings.modules.READ",
  "ZohoCRM.org.READ",
  // search_records: Zoho's Search Records page asks for it beside the modules scope.
  "ZohoSearch.securesearch.READ",
  "ZohoCRM.users.READ",
].join(",");

/** What the accounts server hands back for a self-client's grant code. */
export interface Grant {
  refreshToken: string;
  accessToken: string;
  /** The org's API host, checked to be Zoho's (or the pinned one) before any token goes there. */
  apiDomain: string;
  /** The scopes granted, as Zoho lists them (space- or comma-separated). */
  scope: string;
}

/** What to do about each answer Zoho gives a grant-code exchange. */
const EXCHANGE_FIXES: Record<string, string> = {
  invalid_code:
    "the code is wrong, expired (it lives 3 to 10 minutes) or was used already: generate a new one in the API console and paste it at once",
  invalid_client:
    "Zoho does not know this Client ID and secret at this accounts server: check both, and that the data center is the one where the self-client was created",
  invalid_client_secret: "the Client secret is wrong: copy it again from the self-client's Client Secret tab",
};

/**
 * Exchanges a self-client's grant code (API console, Generate Code) for a refresh token. Never
 * retried: the code works once. Zoho answers failures with HTTP 200 and {"error": ...}.
 */
export async function exchangeGrantCode(input: {
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  code: string;
  /** A pinned API host (ZOHO_API_DOMAIN / --api-domain): then the answer's api_domain is not used. */
  apiDomain?: string;
  timeoutMs?: number;
}): Promise<Grant> {
  registerSecret(input.clientSecret);
  registerSecret(input.code);
  const { default: ky, TimeoutError } = await loadKy();
  const endpoint = `${input.accountsUrl}/oauth/v2/token`;
  let text: string;
  let status: number;
  try {
    const response = await ky.post(endpoint, {
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: input.clientId, client_secret: input.clientSecret, code: input.code }),
      retry: 0,
      timeout: input.timeoutMs ?? 30_000,
      throwHttpErrors: false,
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new ZohoError({
      code: error instanceof TimeoutError ? "TIMEOUT" : "NETWORK_ERROR",
      message: `could not reach the accounts server ${input.accountsUrl}: ${(error as Error).message}`,
      hint: "check the network, and the data center you chose",
      cause: error,
    });
  }
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    // an outage page: reported below
  }
  if (!body) throw new ZohoError({ status, code: "TOKEN_EXCHANGE_FAILED", message: `the accounts server ${input.accountsUrl} answered HTTP ${status} without a JSON body`, hint: "try again in a minute" });
  const refreshToken = typeof body.refresh_token === "string" ? body.refresh_token : "";
  const accessToken = typeof body.access_token === "string" ? body.access_token : "";
  if (!refreshToken || !accessToken) {
    const error = typeof body.error === "string" ? body.error : "no refresh_token in the answer";
    throw new ZohoError({
      code: "TOKEN_EXCHANGE_FAILED",
      message: `Zoho's accounts server ${input.accountsUrl} refused the code (${error})`,
      details: { error },
      hint: EXCHANGE_FIXES[error] ?? "generate a new code with the scopes shown and try again",
    });
  }
  registerSecret(refreshToken);
  registerSecret(accessToken);

  const pinned = input.apiDomain?.replace(/\/+$/, "");
  const named = typeof body.api_domain === "string" ? body.api_domain.replace(/\/+$/, "") : "";
  const apiDomain = pinned ?? named;
  // The same rule the server applies: a token only ever goes to a Zoho API host (or the pinned one).
  if (!apiDomain || !apiDomainAccepted(apiDomain, { accountsUrl: input.accountsUrl, apiDomain: pinned ?? "", apiDomainPinned: pinned !== undefined })) {
    throw new ZohoError({
      code: "UNTRUSTED_API_DOMAIN",
      message: `the accounts server named api_domain ${JSON.stringify(named)}, which is not a Zoho API host; the token is not sent there`,
    });
  }
  return { refreshToken, accessToken, apiDomain, scope: typeof body.scope === "string" ? body.scope : "" };
}
