import { DATA_CENTERS, isLoopback, type Config } from "../config.js";
import { registerSecret, type Logger } from "../log.js";
import { ZohoError } from "./errors.js";
import { loadKy } from "./ky.js";

interface CachedToken {
  value: string;
  expiresAt: number;
  /** Zoho has accepted it at least once. A token refused before it ever worked is no expiry. */
  worked: boolean;
}

/**
 * After Zoho says "too many requests", it blocks new tokens for about ten minutes, and every ask
 * during the block may extend it: ask nothing for the whole ten minutes.
 */
export const RATE_LIMIT_BLOCK_MS = 10 * 60_000;
/**
 * After the accounts server refuses the refresh token itself (invalid_code, invalid_client), asking
 * again with the same settings gets the same answer and spends one of Zoho's ten tokens per ten
 * minutes: repeat the refusal for a while instead.
 */
const REFUSAL_COOLDOWN_MS = 60_000;

/**
 * Access tokens for the Zoho client. Zoho allows about ten tokens per ten minutes per refresh
 * token, so one refresh runs at a time, every concurrent caller shares it, and the token is kept
 * until shortly before it expires.
 */
export class TokenManager {
  private current: CachedToken | undefined;
  private inflight: Promise<string> | undefined;
  private staticExpired = false;
  private blockedUntil = 0;
  private refusal: { until: number; error: ZohoError } | undefined;
  /** The API base the accounts server named for this org; used unless the user pinned one. */
  apiDomain: string | undefined;
  /** How many refreshes this process made (figures for tests and the benchmark). */
  refreshes = 0;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    if (config.auth.kind === "static") registerSecret(config.auth.accessToken);
  }

  /** When the cached token is due for renewal (epoch ms), or undefined when none is cached. */
  get renewsAt(): number | undefined {
    return this.current?.expiresAt;
  }

  get canRefresh(): boolean {
    return this.config.auth.kind === "refresh";
  }

  async get(): Promise<string> {
    const auth = this.config.auth;
    if (auth.kind === "static") {
      if (this.staticExpired) throw accessTokenExpired();
      return auth.accessToken;
    }
    // Per-user sign-in: the process has no Zoho identity of its own; each user's client has theirs.
    if (auth.kind === "signin") throw new Error("unreachable: in sign-in mode every Zoho request uses the user's own token");
    if (this.current && Date.now() < this.current.expiresAt) return this.current.value;
    this.inflight ??= this.refresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Zoho accepted `token`: from now on a 401 for it means it expired or was revoked. */
  confirm(token: string | undefined): void {
    if (token && this.current?.value === token) this.current.worked = true;
  }

  /**
   * Whether a new token could cure a 401 for `token`. Not when `token` is the current one and
   * Zoho never accepted it: a token refused from its first use points at the wrong data center or
   * ZOHO_API_DOMAIN, and every refresh would only spend Zoho's token allowance.
   */
  refreshMayHelp(token: string | undefined): boolean {
    return !(token && this.current?.value === token && !this.current.worked);
  }

  /**
   * Zoho refused `token`. Forget it, unless a newer one already replaced it: twenty calls failing
   * with the same stale token must cause one refresh, not twenty.
   */
  invalidate(token: string | undefined): void {
    if (this.config.auth.kind === "static") {
      this.staticExpired = true;
      return;
    }
    if (token && this.current?.value === token) this.current = undefined;
  }

  private async refresh(): Promise<string> {
    const auth = this.config.auth;
    if (auth.kind !== "refresh") throw new Error("unreachable: static tokens are not refreshed");
    if (Date.now() < this.blockedUntil) throw rateLimited(this.blockedUntil);
    if (this.refusal && Date.now() < this.refusal.until) throw this.refusal.error;

    const endpoint = `${this.config.accountsUrl}/oauth/v2/token`;
    this.refreshes++;
    this.logger.log("info", `refreshing the Zoho access token at ${endpoint}`);
    const { default: ky, TimeoutError } = await loadKy();
    let status: number;
    let text: string;
    try {
      // Never retried: every attempt counts against Zoho's ten-per-ten-minutes token limit.
      const response = await ky.post(endpoint, {
        body: new URLSearchParams({
          grant_type: "refresh_token",
          client_id: auth.clientId,
          client_secret: auth.clientSecret,
          refresh_token: auth.refreshToken,
        }),
        retry: 0,
        timeout: this.config.timeoutMs,
        throwHttpErrors: false,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof TimeoutError;
      throw new ZohoError({
        code: timedOut ? "TIMEOUT" : "NETWORK_ERROR",
        message: timedOut
          ? `the accounts server ${this.config.accountsUrl} did not answer within ${this.config.timeoutMs} ms`
          : `could not refresh the access token at ${this.config.accountsUrl}: ${(error as Error).message}`,
        cause: error,
      });
    }
    const body = jsonObject(text);
    if (!body) {
      // An outage page, not Zoho's verdict on the credentials: not remembered, the next call asks again.
      throw new ZohoError({ status, code: "TOKEN_REFRESH_FAILED", message: `the accounts server ${this.config.accountsUrl} answered HTTP ${status} without a JSON body; try again later` });
    }

    // Zoho answers a failed refresh with HTTP 200 and {"error": ...}: the body decides.
    const token = typeof body.access_token === "string" ? body.access_token : undefined;
    if (!token) {
      const error = String(body.error ?? "no access_token in the answer");
      const description = typeof body.error_description === "string" ? body.error_description : "";
      if (/access denied|too many requests/i.test(`${error} ${description}`)) {
        this.blockedUntil = Date.now() + RATE_LIMIT_BLOCK_MS;
        this.logger.log("warning", "Zoho refused to issue another access token: refresh limit reached");
        throw rateLimited(this.blockedUntil);
      }
      const refused = new ZohoError({
        code: "TOKEN_REFRESH_FAILED",
        message: `Zoho's accounts server ${this.config.accountsUrl} refused the refresh token (${error}${description ? `: ${description}` : ""})`,
      });
      this.refusal = { until: Date.now() + REFUSAL_COOLDOWN_MS, error: refused };
      throw refused;
    }
    registerSecret(token, "access-token");

    // Only a Zoho API host may receive the token: a wrong or tampered api_domain would get it.
    let apiDomain: string | undefined;
    // A pinned ZOHO_API_DOMAIN (or sandbox/developer host) wins: the named host is never used then.
    if (!this.config.apiDomainPinned && typeof body.api_domain === "string" && body.api_domain) {
      apiDomain = body.api_domain.replace(/\/+$/, "");
      if (!apiDomainAccepted(apiDomain, this.config)) {
        const refused = new ZohoError({
          code: "UNTRUSTED_API_DOMAIN",
          message: `the accounts server ${this.config.accountsUrl} named api_domain ${JSON.stringify(apiDomain)}, which is not an https Zoho API host (*.zohoapis.{${Object.values(DATA_CENTERS).map((dc) => dc.tld).join(",")}}); the access token is not sent there`,
        });
        this.refusal = { until: Date.now() + REFUSAL_COOLDOWN_MS, error: refused };
        throw refused;
      }
    }
    this.refusal = undefined;

    const lifetimeMs = tokenLifetimeMs(body);
    // Refresh a minute early (or a tenth of a short lifetime) so no request leaves with a token
    // that dies on the way.
    const marginMs = Math.min(60_000, lifetimeMs / 10);
    this.current = { value: token, expiresAt: Date.now() + lifetimeMs - marginMs, worked: false };
    if (apiDomain) this.apiDomain = apiDomain;
    return token;
  }
}

/**
 * The token's lifetime in milliseconds, read as Zoho's SDKs read it: when the answer also carries
 * `expires_in_sec`, `expires_in` is already in milliseconds; otherwise it is in seconds. Absent or
 * unreadable: Zoho's documented hour.
 */
export function tokenLifetimeMs(body: Record<string, unknown>): number {
  const number = (v: unknown) => (typeof v === "number" || (typeof v === "string" && v.trim() !== "") ? Number(v) : NaN);
  const inMs = "expires_in_sec" in body ? number(body.expires_in) : NaN;
  const ms = !Number.isNaN(inMs) ? inMs : "expires_in_sec" in body ? number(body.expires_in_sec) * 1000 : number(body.expires_in) * 1000;
  return Number.isFinite(ms) && ms > 0 ? ms : 3_600_000;
}

/** Zoho's API domains, one per data center; the host is `www.`, `sandbox.` or `developer.` under one. */
const ZOHO_API_DOMAINS = Object.values(DATA_CENTERS).map((dc) => `zohoapis.${dc.tld}`);


/**
 * Whether a token answer's api_domain may receive the access token: an https host under a known
 * Zoho API domain, or exactly the ZOHO_API_DOMAIN the user set, or (for tests and the demo, whose
 * accounts server is itself on loopback) a loopback URL.
 */
export function apiDomainAccepted(apiDomain: string, config: Pick<Config, "accountsUrl" | "apiDomain" | "apiDomainPinned">): boolean {
  let url: URL;
  try {
    url = new URL(apiDomain);
  } catch {
    return false;
  }
  if (config.apiDomainPinned && apiDomain === config.apiDomain) return true;
  if (url.protocol === "https:" && !url.username && !url.password && (url.pathname === "/" || url.pathname === "")) {
    const host = url.hostname.toLowerCase();
    if (ZOHO_API_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`))) return true;
  }
  return isLoopback(url.hostname) && isLoopback(new URL(config.accountsUrl).hostname);
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** ZOHO_ACCESS_TOKEN refused: it cannot be refreshed, so every later call would fail the same way. */
export function accessTokenExpired(status = 401): ZohoError {
  return new ZohoError({
    status,
    code: "ACCESS_TOKEN_EXPIRED",
    message: "Zoho refused ZOHO_ACCESS_TOKEN (expired, revoked, or issued in another data center than ZOHO_DC), and without a refresh token the server cannot get a new one.",
  });
}

function rateLimited(until: number): ZohoError {
  const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  return new ZohoError({
    code: "REFRESH_RATE_LIMITED",
    message: `Zoho blocks new access tokens for now (about 10 per 10 minutes are allowed). Retry in ${seconds} s or more; the block may last up to 10 minutes.`,
  });
}
