// `zoho-crm-related-mcp doctor`: checks the configuration a client would start the server with (the
// same ZOHO_* environment), one line per check with ✓ or ✗ and the fix, before a tool call fails
// with the same cause. Not serving: it writes to stdout. Exit 0 only when every required check passes.
import { homedir } from "node:os";
import { parseArgs } from "node:util";
import { ConfigError, DATA_CENTERS, demoRequested, loadConfig, secretsOf, type Config } from "../config.js";
import { Logger, redact, registerSecret } from "../log.js";
import { crmPath, ZohoClient } from "../zoho/client.js";
import { ZohoError } from "../zoho/errors.js";
import { SETUP_SCOPES } from "../zoho/grant.js";
import { loadKy } from "../zoho/ky.js";
import { CLIENT_LABELS, configPath, existingEntry, type ClientName } from "./clients.js";

export const DOCTOR_USAGE = `zoho-crm-related-mcp doctor [--demo | --client NAME [--name NAME] [--config-file FILE]]

  Checks the configuration a client would start the server with (the ZOHO_* environment): settings,
  accounts server, token refresh, data center, API domain, each scope the tools use, and one
  related-records call. One line per check, ✓ or ✗ with the fix. Exit 0 when every required check
  passes, 1 otherwise.

  --demo              check against the built-in demo CRM (what --demo serves)
  --client NAME       check the env of the server entry in that client's configuration instead:
                      claude-desktop, claude-code, cursor, vscode (what setup writes)
  --name NAME         the entry's name (default zoho-crm)
  --config-file FILE  read this file instead of the client's usual one
`;

interface Check {
  name: string;
  /** true passed, false failed, undefined not run (an earlier check it needs failed). */
  ok: boolean | undefined;
  detail: string;
  fix?: string;
  /** A failed optional check is reported but does not fail the run: the tools work around it. */
  optional?: boolean;
}

/** A record to try the related-records call on, from the first module that has one. */
const PROBE_MODULES = ["Leads", "Accounts", "Contacts", "Deals"] as const;

export async function doctor(argv: string[], env: NodeJS.ProcessEnv = process.env, write: (text: string) => void = (t) => void process.stdout.write(t)): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: { demo: { type: "boolean" }, client: { type: "string" }, name: { type: "string" }, "config-file": { type: "string" }, help: { type: "boolean", short: "h" } },
    }).values;
  } catch (error) {
    write(`${(error as Error).message}\n${DOCTOR_USAGE}`);
    return 2;
  }
  if (flags.help) {
    write(DOCTOR_USAGE);
    return 0;
  }

  if (flags.client !== undefined) {
    const entry = clientEntryEnv(flags.client, flags.name ?? "zoho-crm", flags["config-file"]);
    if (typeof entry === "string") {
      write(`✗ settings: ${entry}\n    fix: run \`zoho-crm-related-mcp setup\`, or name the entry with --name\n`);
      return 1;
    }
    write(`Checking the "${flags.name ?? "zoho-crm"}" entry of ${entry.file}\n`);
    env = entry.env;
  }

  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    const mark = check.ok === undefined ? "-" : check.ok ? "✓" : "✗";
    const optional = check.ok === false && check.optional ? " (optional)" : "";
    write(redact(`${mark} ${check.name}${optional}: ${check.detail}\n${check.ok === false && check.fix ? `    fix: ${check.fix}\n` : ""}`));
  };
  const skip = (name: string, why: string) => report({ name, ok: undefined, detail: `not checked (${why})` });

  let closeDemo = async () => {};
  try {
    // 1. settings
    let config: Config;
    try {
      let source = env;
      if (flags.demo || demoRequested(env)) {
        const { startDemoCrm } = await import("../demo/crm.js");
        const crm = await startDemoCrm();
        closeDemo = () => crm.close();
        source = { ...env, ZOHO_ACCESS_TOKEN: undefined, ZOHO_CLIENT_ID: "demo-client-id", ZOHO_CLIENT_SECRET: "demo-client-secret", ZOHO_REFRESH_TOKEN: "demo-refresh-token", ZOHO_ACCOUNTS_URL: crm.url, ZOHO_API_DOMAIN: crm.url };
      }
      config = loadConfig(source);
      for (const secret of secretsOf(config)) registerSecret(secret);
      const auth = config.auth.kind === "refresh" ? `self-client ${config.auth.clientId}` : "a fixed ZOHO_ACCESS_TOKEN (cannot be refreshed)";
      report({ name: "settings", ok: true, detail: `${auth}, ${config.dc.toUpperCase()} data center, ${config.environment}` });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      report({ name: "settings", ok: false, detail: error.message, fix: "set the variable in the client's configuration for this server, or run `zoho-crm-related-mcp setup`" });
      for (const name of ["accounts server", "token refresh", "data center", "API domain", "scope"]) skip(name, "needs valid settings");
      await checkRedis(env, report);
      return summary(checks, write);
    }

    const client = new ZohoClient(config, new Logger(false));

    // 2. accounts server, 3. token refresh
    let token = false;
    if (config.auth.kind === "refresh") {
      const reachable = await reach(config);
      report(reachable === true
        ? { name: "accounts server", ok: true, detail: `${config.accountsUrl} answers` }
        : { name: "accounts server", ok: false, detail: `${config.accountsUrl} cannot be reached (${reachable})`, fix: `check the network or proxy, and ZOHO_DC (now ${config.dc}: ${DATA_CENTERS[config.dc].accounts})` });
      if (reachable !== true) skip("token refresh", "the accounts server is unreachable");
      else {
        try {
          await client.tokens.get();
          token = true;
          report({ name: "token refresh", ok: true, detail: `Zoho issued an access token for the refresh token` });
        } catch (error) {
          report({ name: "token refresh", ok: false, detail: messageOf(error), fix: refreshFix(error, config) });
        }
      }
    } else {
      skip("accounts server", "ZOHO_ACCESS_TOKEN is used as it is");
      token = true;
      report({ name: "token refresh", ok: true, detail: "not needed: ZOHO_ACCESS_TOKEN is used as it is, until it expires (within an hour of its creation)" });
    }

    // 4. data center: the api_domain that came with the token is the org's data center.
    const named = client.tokens.apiDomain;
    if (!token) skip("data center", "needs an access token");
    else if (config.apiDomainPinned) report({ name: "data center", ok: true, detail: `API domain set by ZOHO_API_DOMAIN (${config.apiDomain}); Zoho's api_domain not used` });
    else if (!named) report({ name: "data center", ok: true, detail: `${config.dc.toUpperCase()} (the token answer named no api_domain; using ${config.apiDomain})` });
    else {
      const tld = new URL(named).hostname.replace(/^.*?zohoapis\./, "");
      const actual = Object.entries(DATA_CENTERS).find(([, dc]) => dc.tld === tld)?.[0];
      report(actual === config.dc
        ? { name: "data center", ok: true, detail: `${config.dc.toUpperCase()}: the org's API domain is ${named}` }
        : { name: "data center", ok: false, detail: `ZOHO_DC is ${config.dc} but the token belongs to ${actual ?? named}`, fix: `set ZOHO_DC=${actual ?? "the data center of " + named}` });
    }

    // 5. API domain and 6. the records scope: one Get Records call per probe module until one has a record.
    let probe: { module: string; id: string } | undefined;
    let domainOk = false;
    if (!token) {
      skip("API domain", "needs an access token");
      skip("scope ZohoCRM.modules.READ", "needs an access token");
    } else {
      let failure: unknown;
      let scopeMissing: ZohoError | undefined;
      for (const module of PROBE_MODULES) {
        try {
          const { body } = await client.get(crmPath({ apiName: module }), { searchParams: { fields: "id", per_page: 1 } });
          domainOk = true;
          const id = (body?.data as Array<{ id?: unknown }> | undefined)?.[0]?.id;
          if (typeof id === "string") {
            probe = { module, id };
            break;
          }
        } catch (error) {
          if (error instanceof ZohoError && error.code === "OAUTH_SCOPE_MISMATCH") {
            domainOk = true;
            scopeMissing = error;
            break;
          }
          failure = error;
          break;
        }
      }
      const domain = config.apiDomainPinned ? config.apiDomain : (client.tokens.apiDomain ?? config.apiDomain);
      if (domainOk) report({ name: "API domain", ok: true, detail: `${domain}/crm/v7 accepts the token` });
      else report({ name: "API domain", ok: false, detail: `${domain}/crm/v7: ${messageOf(failure)}`, fix: apiFix(failure, config) });

      if (!domainOk) skip("scope ZohoCRM.modules.READ", "the API domain refused the token");
      else if (scopeMissing) report({ name: "scope ZohoCRM.modules.READ", ok: false, detail: messageOf(scopeMissing), fix: SCOPE_FIX });
      else report({ name: "scope ZohoCRM.modules.READ", ok: true, detail: probe ? `records readable (${probe.module} ${probe.id})` : `records readable (no record in ${PROBE_MODULES.join(", ")} to try)` });
    }

    // 7-9. the settings scopes, each on the endpoint the tools call.
    const module = probe?.module ?? "Leads";
    let firstList: string | undefined;
    const scopes: Array<{ scope: string; path: string; params?: Record<string, string>; optional?: boolean; onOk?: (body: Record<string, unknown> | null) => string; without: string }> = [
      {
        scope: "ZohoCRM.settings.related_lists.READ",
        path: "settings/related_lists",
        params: { module },
        without: "list_related_lists and get_related_overview cannot list a module's related lists",
        onOk: (body) => {
          const lists = (body?.related_lists as Array<{ api_name?: string; status?: string; module?: unknown }> | undefined) ?? [];
          firstList = lists.find((l) => l.status === "visible" && l.api_name && l.module)?.api_name;
          return `${lists.length} related lists of ${module}`;
        },
      },
      { scope: "ZohoCRM.settings.fields.READ", path: "settings/fields", params: { module }, optional: true, without: "default fields come from a built-in table" },
      { scope: "ZohoCRM.settings.modules.READ", path: "settings/modules", optional: true, without: "default fields fall back further, custom module names are not completed, and web addresses of custom modules are not read" },
      { scope: "ZohoCRM.org.READ", path: "org", optional: true, without: "search_records and get_record give no web addresses", onOk: (body) => `web addresses name the org ${String((body?.org as Array<{ domain_name?: unknown }> | undefined)?.[0]?.domain_name ?? "?")}` },
      // Zoho's Search Records page asks for it beside the modules scope; a two-letter word is the cheapest search.
      { scope: "ZohoSearch.securesearch.READ", path: `${module}/search`, params: { word: "zz", per_page: "1" }, without: "search_records cannot find a record by name, email or phone", onOk: () => `${module} searchable` },
    ];
    for (const s of scopes) {
      if (!domainOk) {
        skip(`scope ${s.scope}`, "the API domain refused the token");
        continue;
      }
      try {
        const { body } = await client.get(s.path, { searchParams: s.params ?? {} });
        report({ name: `scope ${s.scope}`, ok: true, detail: s.onOk?.(body) ?? "granted" });
      } catch (error) {
        const missing = error instanceof ZohoError && error.code === "OAUTH_SCOPE_MISMATCH";
        report({ name: `scope ${s.scope}`, ok: false, optional: s.optional, detail: `${messageOf(error)}${missing ? `; without it ${s.without}` : ""}`, fix: missing ? SCOPE_FIX : apiFix(error, config) });
      }
    }

    // 10. the Emails scope, on the Emails list of the record found (Zoho asks for it beside the modules scope).
    const emailsScope = "scope ZohoCRM.modules.emails.READ";
    if (!probe) skip(emailsScope, domainOk ? `no record in ${PROBE_MODULES.join(", ")} to try` : "the API domain refused the token");
    else {
      try {
        const { status } = await client.get(crmPath({ apiName: probe.module }, { recordId: probe.id }, { literal: "Emails" }));
        report({ name: emailsScope, ok: true, detail: `${probe.module} ${probe.id} → Emails: ${status === 204 ? "no emails" : "readable"}` });
      } catch (error) {
        const missing = error instanceof ZohoError && error.code === "OAUTH_SCOPE_MISMATCH";
        report({ name: emailsScope, ok: false, optional: true, detail: `${messageOf(error)}${missing ? "; without it the Emails list and its emails cannot be read" : ""}`, fix: missing ? SCOPE_FIX : apiFix(error, config) });
      }
    }

    // 11. one related-records call, as get_related_records makes it.
    if (!probe && domainOk) report({ name: "related records", ok: true, detail: `not tried: no record in ${PROBE_MODULES.join(", ")}` });
    else if (!probe) skip("related records", "the API domain refused the token");
    else {
      const list = firstList ?? "Notes";
      try {
        const { status, body } = await client.get(crmPath({ apiName: probe.module }, { recordId: probe.id }, { apiName: list }), { searchParams: { fields: "id", per_page: 1 } });
        const info = body?.info as { more_records?: boolean } | undefined;
        const count = status === 204 ? "no records" : info?.more_records ? "records" : "1 record";
        report({ name: "related records", ok: true, detail: `${probe.module} ${probe.id} → ${list}: ${count}` });
      } catch (error) {
        report({ name: "related records", ok: false, detail: `${probe.module} ${probe.id} → ${list}: ${messageOf(error)}`, fix: error instanceof ZohoError && error.code === "OAUTH_SCOPE_MISMATCH" ? SCOPE_FIX : apiFix(error, config) });
      }
    }
    await checkRedis(env, report);
    return summary(checks, write);
  } finally {
    await closeDemo().catch(() => undefined);
  }
}

/**
 * MCP_REDIS_URL, when set: Redis answers PING (with the password of the URL), and how fast. The
 * URL is shown without its password; the password is registered for redaction before anything runs.
 */
async function checkRedis(env: NodeJS.ProcessEnv, report: (check: Check) => void): Promise<void> {
  if (!env.MCP_REDIS_URL?.trim()) return;
  const { loadRedisSettings } = await import("../redis/settings.js");
  let settings;
  try {
    settings = loadRedisSettings(env)!;
  } catch (error) {
    return report({ name: "Redis", ok: false, detail: (error as Error).message, fix: "set MCP_REDIS_URL to the redis:// (or rediss://) URL of the Redis every replica shares, or unset it for one process" });
  }
  const { SharedRedis } = await import("../redis/connection.js");
  const redis = await SharedRedis.open(settings, undefined, 2000);
  try {
    const pings = [];
    for (let i = 0; i < 3; i++) pings.push(await redis.ping());
    const best = Math.min(...pings);
    report({ name: "Redis", ok: true, detail: `${settings.display} answers PING in ${best < 1 ? best.toFixed(2) : best.toFixed(1)} ms` });
  } catch (error) {
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    report({ name: "Redis", ok: false, detail: `${settings.display} does not answer (${reason})`, fix: "check that Redis runs and this machine reaches it, and the password in MCP_REDIS_URL (redis://:PASSWORD@host:6379)" });
  } finally {
    await redis.close();
  }
}

/** The env a client starts the server with, from its configuration file; or why it cannot be read. */
function clientEntryEnv(client: string, name: string, file: string | undefined): { file: string; env: NodeJS.ProcessEnv } | string {
  if (!(client in CLIENT_LABELS)) return `--client must be one of ${Object.keys(CLIENT_LABELS).join(", ")}`;
  const path = file ?? configPath(client as ClientName, process.platform, process.env, homedir());
  let entry: unknown;
  try {
    entry = existingEntry(path, client as ClientName, name);
  } catch (error) {
    return (error as Error).message;
  }
  if (entry === undefined) return `${path} has no server named ${name}`;
  const env = (entry as { env?: unknown }).env;
  // An entry that serves the demo CRM (what `setup --demo` writes) needs no env: check the demo.
  const args = (entry as { args?: unknown }).args;
  const demo = Array.isArray(args) && args.includes("--demo");
  if (!demo && (!env || typeof env !== "object")) return `the ${name} entry of ${path} has no env`;
  // Only what the entry sets: a client starts the server with little else (never this shell's ZOHO_*).
  const set = Object.fromEntries(Object.entries(env ?? {}).filter(([, v]) => typeof v === "string")) as NodeJS.ProcessEnv;
  return { file: path, env: demo ? { ...set, ZOHO_DEMO: "1" } : set };
}

const SCOPE_FIX =
  `generate a new code with the scopes \`zoho-crm-related-mcp setup\` prints (${SETUP_SCOPES}) and set the new refresh token`;

function summary(checks: Check[], write: (text: string) => void): number {
  const failed = checks.filter((c) => c.ok === false && !c.optional).length;
  const skipped = checks.filter((c) => c.ok === undefined).length;
  const optional = checks.filter((c) => c.ok === false && c.optional).length;
  if (failed === 0 && skipped === 0) {
    write(`\nAll required checks passed${optional ? ` (${optional} optional ${optional === 1 ? "scope" : "scopes"} missing: the tools work around ${optional === 1 ? "it" : "them"})` : ""}.\n`);
    return 0;
  }
  write(`\n${failed} required ${failed === 1 ? "check" : "checks"} failed${skipped ? `, ${skipped} not run` : ""}: fix the first ✗ and run doctor again.\n`);
  return 1;
}

/** Any HTTP answer means the host is reachable; only a network failure or a timeout does not. */
async function reach(config: Config): Promise<true | string> {
  const { default: ky } = await loadKy();
  try {
    await ky.get(`${config.accountsUrl}/oauth/v2/token`, { retry: 0, timeout: Math.min(config.timeoutMs, 15_000), throwHttpErrors: false });
    return true;
  } catch (error) {
    // fetch says "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND...) is down its cause chain.
    for (let e: unknown = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === "string") return code;
    }
    return (error as Error).message;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof ZohoError) return `${error.code}${error.status ? ` (HTTP ${error.status})` : ""}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function refreshFix(error: unknown, config: Config): string | undefined {
  const text = error instanceof Error ? error.message : "";
  if (/\binvalid_client\b/.test(text)) return `ZOHO_CLIENT_ID or ZOHO_CLIENT_SECRET is wrong, or the self-client was made in another data center than ZOHO_DC (now ${config.dc}: ${config.accountsUrl})`;
  if (/\binvalid_code\b/.test(text)) return "ZOHO_REFRESH_TOKEN is wrong, revoked, or was made for another self-client: run `zoho-crm-related-mcp setup` for a new one";
  if (error instanceof ZohoError) return error.hint;
  return undefined;
}

function apiFix(error: unknown, config: Config): string | undefined {
  if (error instanceof ZohoError && (error.code === "INVALID_TOKEN" || error.code === "AUTHENTICATION_FAILURE")) {
    return `the API host refuses a fresh token: it belongs to another data center or environment; check ZOHO_DC (now ${config.dc}), ZOHO_ENVIRONMENT (now ${config.environment}) and ZOHO_API_DOMAIN`;
  }
  return error instanceof ZohoError ? error.hint : undefined;
}
