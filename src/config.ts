import { z } from "zod";

/**
 * Zoho runs separate, isolated data centers: a token issued by accounts.zoho.eu is useless at
 * www.zohoapis.com. CA's accounts host is zohocloud.ca, not zoho.ca (a common mistake). Sources:
 * Zoho Accounts' multi-DC page (us to uk) and the SDKs' dc/ classes; ae (United Arab Emirates) is
 * newer than both, see docs/zoho-compatibility.md. The accounts hosts are also the ones sign-in
 * trusts in Zoho's `accounts-server` (src/oauth/zoho-accounts.ts), and the API hosts the ones an
 * `api_domain` may name (src/zoho/auth.ts).
 */
export const DATA_CENTERS = {
  us: { accounts: "https://accounts.zoho.com", tld: "com" },
  eu: { accounts: "https://accounts.zoho.eu", tld: "eu" },
  in: { accounts: "https://accounts.zoho.in", tld: "in" },
  au: { accounts: "https://accounts.zoho.com.au", tld: "com.au" },
  jp: { accounts: "https://accounts.zoho.jp", tld: "jp" },
  cn: { accounts: "https://accounts.zoho.com.cn", tld: "com.cn" },
  ca: { accounts: "https://accounts.zohocloud.ca", tld: "ca" },
  sa: { accounts: "https://accounts.zoho.sa", tld: "sa" },
  uk: { accounts: "https://accounts.zoho.uk", tld: "uk" },
  ae: { accounts: "https://accounts.zoho.ae", tld: "ae" },
} as const;

export type DataCenter = keyof typeof DATA_CENTERS;
export type Environment = "production" | "sandbox" | "developer";

const API_HOST_PREFIX: Record<Environment, string> = {
  production: "www",
  sandbox: "sandbox",
  developer: "developer",
};

/** The API base (without /crm/v7) for a data center and environment. */
export function apiDomainFor(dc: DataCenter, environment: Environment): string {
  return `https://${API_HOST_PREFIX[environment]}.zohoapis.${DATA_CENTERS[dc].tld}`;
}

/**
 * The CRM's web origin for a data center: where a person opens a record (`{origin}/crm/{org}/tab/
 * {Module}/{id}`). Zoho's web hosts follow the accounts domain: crm.zoho.{tld}, crm.zohocloud.ca in
 * Canada, crmsandbox.* for a sandbox.
 */
export function webOriginFor(dc: DataCenter, environment: Environment): string {
  const domain = new URL(DATA_CENTERS[dc].accounts).hostname.replace(/^accounts\./, "");
  return `https://${environment === "sandbox" ? "crmsandbox" : "crm"}.${domain}`;
}

/** The data center whose API host this is (www/sandbox/developer.zohoapis.{tld}), if it is one. */
export function dataCenterOfApiDomain(apiDomain: string): DataCenter | undefined {
  const host = URL.canParse(apiDomain) ? new URL(apiDomain).hostname : "";
  return (Object.keys(DATA_CENTERS) as DataCenter[]).find((dc) => host.endsWith(`.zohoapis.${DATA_CENTERS[dc].tld}`) && host.split(".").length === 3 + DATA_CENTERS[dc].tld.split(".").length - 1);
}

export type Auth =
  | { kind: "refresh"; clientId: string; clientSecret: string; refreshToken: string }
  | { kind: "static"; accessToken: string }
  /** Per-user sign-in (--http --oauth): a Zoho server-based client; each user brings their own tokens. */
  | { kind: "signin"; clientId: string; clientSecret: string };

export interface Config {
  auth: Auth;
  dc: DataCenter;
  environment: Environment;
  /** Token endpoint base; the endpoint is `${accountsUrl}/oauth/v2/token`. */
  accountsUrl: string;
  /** API base. `pinned` means the user set it, so the token's `api_domain` must not replace it. */
  apiDomain: string;
  apiDomainPinned: boolean;
  maxRecords: number;
  concurrency: number;
  timeoutMs: number;
  /** Largest attachment a resource read hands over (bytes); above it, FILE_TOO_LARGE. */
  maxAttachmentBytes: number;
  /** Deadline of one whole tool call (every page and retry of a walk), in milliseconds. */
  callTimeoutMs: number;
  /** Most characters a result's content (text and links) may take; rows past it are left to structuredContent. */
  resultMaxChars: number;
}

/**
 * 24,000 characters: about 8,000-10,000 tokens of record lines, under Claude Code's warning at
 * 10,000 tokens and far under the 25,000 it keeps (MAX_MCP_OUTPUT_TOKENS); clients that cut
 * silently never cut a row in half. docs/result-budget.md says why, per client.
 */
export const DEFAULT_RESULT_MAX_CHARS = 24_000;

/** Loopback hosts: the demo CRM and tests, where plain http carries nothing off the machine. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

// Tokens and secrets travel to these URLs: plain http only where it cannot leave the machine.
const url = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .refine((u) => !URL.canParse(u) || new URL(u).protocol === "https:" || isLoopback(new URL(u).hostname), {
    error: "must be an https URL (plain http only for a loopback address such as http://127.0.0.1:8080)",
  })
  .transform((u) => u.replace(/\/+$/, ""));

const positiveInt = (max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`);

const nonEmpty = z.string().trim().min(1, "must not be empty");

const EnvSchema = z.object({
  ZOHO_CLIENT_ID: nonEmpty.optional(),
  ZOHO_CLIENT_SECRET: nonEmpty.optional(),
  ZOHO_REFRESH_TOKEN: nonEmpty.optional(),
  ZOHO_ACCESS_TOKEN: nonEmpty.optional(),
  ZOHO_DC: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(Object.keys(DATA_CENTERS) as [DataCenter, ...DataCenter[]], {
      error: `must be one of ${Object.keys(DATA_CENTERS).join(", ")}`,
    }))
    .default("us"),
  ZOHO_ENVIRONMENT: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(["production", "sandbox", "developer"], {
      error: "must be one of production, sandbox, developer",
    }))
    .default("production"),
  ZOHO_ACCOUNTS_URL: url.optional(),
  ZOHO_API_DOMAIN: url.optional(),
  // 100,000 is Zoho's own ceiling for one related list walk (PAGINATION_LIMIT_EXCEEDED).
  ZOHO_MAX_RECORDS: positiveInt(100_000).default(2000),
  ZOHO_CONCURRENCY: positiveInt(25).default(4),
  ZOHO_TIMEOUT_MS: positiveInt(600_000).default(30_000),
  // Each request's retries are bounded, but a walk of many pages could still add up to hours.
  ZOHO_CALL_TIMEOUT_MS: positiveInt(3_600_000).default(120_000),
  // A resource read carries the file base64-encoded in one JSON-RPC message (a third larger): 5 MB
  // keeps that message small enough for any MCP client; Zoho itself allows bigger files.
  ZOHO_MAX_ATTACHMENT_BYTES: positiveInt(100 * 1024 * 1024).default(5 * 1024 * 1024),
  // 500,000: the most Claude Code accepts from any tool (anthropic/maxResultSizeChars); 2,000 leaves room for a headline and a few rows.
  ZOHO_RESULT_MAX_CHARS: positiveInt(500_000).min(2000, "must be at least 2000").default(DEFAULT_RESULT_MAX_CHARS),
});

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * ZOHO_DEMO: `1` or `true` serves the demo CRM. The .mcpb's "Demo mode" switch is a boolean, which
 * MCPB hosts pass as "true" or "false"; any other value is a typo worth stopping for, since
 * guessing either way would serve the wrong CRM.
 */
export function demoRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.ZOHO_DEMO?.trim().toLowerCase();
  if (value === undefined || isUnset(value) || value === "0" || value === "false") return false;
  if (value === "1" || value === "true") return true;
  throw new ConfigError("ZOHO_DEMO must be 1 or true (serve the demo CRM), or 0, false or unset");
}

/**
 * Reads the configuration from the environment. Empty strings count as unset, because MCP clients
 * pass optional settings through as "", and so do "null" and an unfilled `${user_config.x}`, which
 * MCPB hosts may pass for a field the user cleared.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { signIn?: boolean } = {}): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("ZOHO_") && !isUnset(v)));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "configuration");
    // Never echo the value: it may be a secret.
    throw new ConfigError(`${variable} ${issue.message}`);
  }
  const e = parsed.data;

  let auth: Auth;
  if (options.signIn) {
    const missing = (["ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET"] as const).filter((k) => !e[k]);
    if (missing.length) {
      throw new ConfigError(`${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing: per-user sign-in (--oauth) needs a Zoho server-based client whose redirect URI is {MCP_PUBLIC_URL}/oauth/callback`);
    }
    // A service account's token beside per-user sign-in would be a second identity nobody sees.
    const stray = (["ZOHO_REFRESH_TOKEN", "ZOHO_ACCESS_TOKEN"] as const).find((k) => e[k]);
    if (stray) throw new ConfigError(`${stray} is not used with --oauth (each user signs in with their own Zoho account): unset it`);
    auth = { kind: "signin", clientId: e.ZOHO_CLIENT_ID!, clientSecret: e.ZOHO_CLIENT_SECRET! };
  } else if (e.ZOHO_CLIENT_ID || e.ZOHO_CLIENT_SECRET || e.ZOHO_REFRESH_TOKEN) {
    const missing = (["ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN"] as const).filter((k) => !e[k]);
    if (missing.length) {
      throw new ConfigError(
        `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing: the refresh-token flow needs ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN`,
      );
    }
    auth = { kind: "refresh", clientId: e.ZOHO_CLIENT_ID!, clientSecret: e.ZOHO_CLIENT_SECRET!, refreshToken: e.ZOHO_REFRESH_TOKEN! };
  } else if (e.ZOHO_ACCESS_TOKEN) {
    auth = { kind: "static", accessToken: e.ZOHO_ACCESS_TOKEN };
  } else {
    throw new ConfigError(
      "ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN are missing (or set ZOHO_ACCESS_TOKEN); run with --demo (or ZOHO_DEMO=1, the .mcpb's Demo mode) to try the server without a Zoho account",
    );
  }

  return {
    auth,
    dc: e.ZOHO_DC,
    environment: e.ZOHO_ENVIRONMENT,
    accountsUrl: e.ZOHO_ACCOUNTS_URL ?? DATA_CENTERS[e.ZOHO_DC].accounts,
    apiDomain: e.ZOHO_API_DOMAIN ?? apiDomainFor(e.ZOHO_DC, e.ZOHO_ENVIRONMENT),
    // A sandbox or developer host must win over the token's api_domain, which always names production.
    apiDomainPinned: e.ZOHO_API_DOMAIN !== undefined || e.ZOHO_ENVIRONMENT !== "production",
    maxRecords: e.ZOHO_MAX_RECORDS,
    concurrency: e.ZOHO_CONCURRENCY,
    timeoutMs: e.ZOHO_TIMEOUT_MS,
    callTimeoutMs: e.ZOHO_CALL_TIMEOUT_MS,
    maxAttachmentBytes: e.ZOHO_MAX_ATTACHMENT_BYTES,
    resultMaxChars: e.ZOHO_RESULT_MAX_CHARS,
  };
}

function isUnset(value: string | undefined): boolean {
  const v = value?.trim() ?? "";
  return v === "" || v === "null" || /^\$\{user_config\.[^}]*\}$/.test(v);
}

/** Every secret the process knows, for redaction of anything that leaves it. */
export function secretsOf(config: Config): string[] {
  if (config.auth.kind === "signin") return [config.auth.clientSecret];
  return config.auth.kind === "refresh"
    ? [config.auth.clientSecret, config.auth.refreshToken]
    : [config.auth.accessToken];
}
