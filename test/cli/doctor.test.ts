// `zoho-crm-related-mcp doctor` against the demo CRM over real HTTP, with its fault switches: each
// broken setting or missing scope gets its ✗ line and fix, and the exit code says whether the
// server would work. Needs the build for the last test (`npm test` runs it first).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { doctor } from "../../src/cli/doctor.js";
import { startDemoCrm, type DemoCrm, type DemoCrmOptions } from "../../src/demo/crm.js";
import { CANARY, expectNoSecrets } from "../helpers.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const BIN = fileURLToPath(new URL(`../../${pkg.bin["zoho-crm-related-mcp"]}`, import.meta.url));

let crm: DemoCrm | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

async function run(options: DemoCrmOptions = {}, env: Record<string, string> = {}, setup?: (crm: DemoCrm) => void) {
  crm = await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken, ...options });
  setup?.(crm);
  let out = "";
  const code = await doctor([], {
    ZOHO_CLIENT_ID: CANARY.clientId,
    ZOHO_CLIENT_SECRET: CANARY.clientSecret,
    ZOHO_REFRESH_TOKEN: CANARY.refreshToken,
    ZOHO_ACCOUNTS_URL: crm.url,
    ZOHO_API_DOMAIN: crm.url,
    ZOHO_TIMEOUT_MS: "2000",
    ...env,
  }, (text) => void (out += text));
  expectNoSecrets(out, crm.issuedAccessTokens());
  const line = (name: string) => out.split("\n").find((l) => l.slice(2).startsWith(`${name}:`) || l.slice(2).startsWith(`${name} (optional):`));
  return { code, out, line, crm };
}

describe("doctor against the demo CRM", () => {
  it("a working configuration: every check ✓, exit 0", async () => {
    const { code, out, line, crm } = await run();
    expect(code).toBe(0);
    expect(out.split("\n").filter((l) => /^[✓✗-] /.test(l)).map((l) => l.slice(0, 2) + l.slice(2).split(":")[0])).toEqual([
      "✓ settings",
      "✓ accounts server",
      "✓ token refresh",
      "✓ data center",
      "✓ API domain",
      "✓ scope ZohoCRM.modules.READ",
      "✓ scope ZohoCRM.settings.related_lists.READ",
      "✓ scope ZohoCRM.settings.fields.READ",
      "✓ scope ZohoCRM.settings.modules.READ",
      "✓ scope ZohoCRM.org.READ",
      "✓ scope ZohoSearch.securesearch.READ",
      "✓ scope ZohoCRM.modules.emails.READ",
      "✓ related records",
    ]);
    expect(line("settings")).toBe(`✓ settings: self-client ${CANARY.clientId}, US data center, production`);
    expect(line("scope ZohoCRM.settings.related_lists.READ")).toBe("✓ scope ZohoCRM.settings.related_lists.READ: 8 related lists of Leads");
    expect(line("related records")).toMatch(/^✓ related records: Leads \d+ → Notes: /);
    expect(line("scope ZohoCRM.org.READ")).toBe("✓ scope ZohoCRM.org.READ: web addresses name the org demo-zylker");
    expect(out).toMatch(/\nAll required checks passed\.\n$/);
    // One token for the whole run: the doctor spends no more of Zoho's ten per ten minutes.
    expect(crm.stats.tokensIssued).toBe(1);
    const paths = crm.stats.requests.map((r) => r.path);
    expect(paths).toContain("/crm/v7/settings/related_lists");
    expect(paths.some((p) => /^\/crm\/v7\/Leads\/\d+\/Notes$/.test(p))).toBe(true);
  });

  it("a wrong client secret: invalid_client, with the fix naming the variables and the data center; exit 1", async () => {
    const { code, line, out } = await run({}, { ZOHO_CLIENT_SECRET: "not-the-canary-secret" });
    expect(code).toBe(1);
    expect(line("token refresh")).toMatch(/^✗ token refresh: TOKEN_REFRESH_FAILED: .*\(invalid_client\)$/);
    expect(out).toContain("    fix: ZOHO_CLIENT_ID or ZOHO_CLIENT_SECRET is wrong, or the self-client was made in another data center than ZOHO_DC (now us:");
    expect(line("API domain")).toBe("- API domain: not checked (needs an access token)");
    expect(out).toMatch(/1 required check failed, \d+ not run/);
  });

  it("a revoked refresh token: invalid_code, and the fix is setup", async () => {
    const { code, line, out } = await run({ refreshToken: "1000.another.refresh-token" });
    expect(code).toBe(1);
    expect(line("token refresh")).toMatch(/\(invalid_code\)$/);
    expect(out).toContain("run `zoho-crm-related-mcp setup` for a new one");
  });

  it("Zoho's token limit reached: too many requests, and when to retry", async () => {
    const { code, line } = await run({ refreshLimit: { max: 0, windowMs: 600_000 } });
    expect(code).toBe(1);
    expect(line("token refresh")).toMatch(/^✗ token refresh: REFRESH_RATE_LIMITED: /);
  });

  it("an accounts server that cannot be reached is named, with the data center's host in the fix", async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const { code, line, out } = await run({}, { ZOHO_ACCOUNTS_URL: `http://127.0.0.1:${port}` });
    expect(code).toBe(1);
    expect(line("accounts server")).toBe(`✗ accounts server: http://127.0.0.1:${port} cannot be reached (ECONNREFUSED)`);
    expect(out).toContain("fix: check the network or proxy, and ZOHO_DC (now us: https://accounts.zoho.com)");
  });

  it("missing settings scopes: the optional ones are reported and exit stays 0", async () => {
    const { code, line, out } = await run({ withoutScopes: ["ZohoCRM.settings.fields.READ", "ZohoCRM.settings.modules.READ"] });
    expect(code).toBe(0);
    expect(line("scope ZohoCRM.settings.fields.READ")).toMatch(/^✗ scope ZohoCRM\.settings\.fields\.READ \(optional\): OAUTH_SCOPE_MISMATCH \(HTTP 401\): .*; without it default fields come from a built-in table$/);
    expect(line("scope ZohoCRM.settings.modules.READ")).toMatch(/^✗ scope ZohoCRM\.settings\.modules\.READ \(optional\): OAUTH_SCOPE_MISMATCH/);
    expect(out).toContain("All required checks passed (2 optional scopes missing: the tools work around them).");
  });

  it("without the Emails scope: reported as optional (the Emails list cannot be read), exit stays 0", async () => {
    const { code, line, crm } = await run({ withoutScopes: ["ZohoCRM.modules.emails.READ"] });
    expect(code).toBe(0);
    expect(line("scope ZohoCRM.modules.emails.READ")).toMatch(/^✗ scope ZohoCRM\.modules\.emails\.READ \(optional\): OAUTH_SCOPE_MISMATCH \(HTTP 401\): .*; without it the Emails list and its emails cannot be read$/);
    expect(crm.stats.requests.some((r) => /^\/crm\/v7\/Leads\/\d+\/Emails$/.test(r.path))).toBe(true);
  });

  it("without the related-list scope or the records scope: ✗ and exit 1", async () => {
    const lists = await run({ withoutScopes: ["ZohoCRM.settings.related_lists.READ"] });
    expect(lists.code).toBe(1);
    expect(lists.line("scope ZohoCRM.settings.related_lists.READ")).toMatch(/^✗ .*; without it list_related_lists and get_related_overview cannot list a module's related lists$/);
    await crm?.close();

    const records = await run({ withoutScopes: ["ZohoCRM.modules.ALL"] });
    expect(records.code).toBe(1);
    expect(records.line("API domain")).toMatch(/^✓ API domain: /); // the host answered: only the scope is missing
    expect(records.line("scope ZohoCRM.modules.READ")).toMatch(/^✗ scope ZohoCRM\.modules\.READ: OAUTH_SCOPE_MISMATCH \(HTTP 401\): /);
    expect(records.out).toContain("fix: generate a new code with the scopes `zoho-crm-related-mcp setup` prints");
  });

  it("without ZohoSearch.securesearch.READ: ✗ naming the scope and what search_records loses, exit 1", async () => {
    const { code, line, out, crm } = await run({ withoutScopes: ["ZohoSearch.securesearch.READ"] });
    expect(code).toBe(1);
    expect(line("scope ZohoSearch.securesearch.READ")).toMatch(/^✗ scope ZohoSearch\.securesearch\.READ: OAUTH_SCOPE_MISMATCH \(HTTP 401\): .*; without it search_records cannot find a record by name, email or phone$/);
    expect(out).toContain("ZohoSearch.securesearch.READ,ZohoCRM.users.READ) and set the new refresh token");
    expect(crm.stats.requests.some((r) => r.path === "/crm/v7/Leads/search" && r.query.word === "zz")).toBe(true);
  });

  it("an API host that refuses the token (another data center) fails the API domain check with the settings to look at", async () => {
    const { code, line, out } = await run({}, { ZOHO_CLIENT_ID: "", ZOHO_CLIENT_SECRET: "", ZOHO_REFRESH_TOKEN: "", ZOHO_ACCESS_TOKEN: "1000.0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef" });
    expect(code).toBe(1);
    expect(line("accounts server")).toBe("- accounts server: not checked (ZOHO_ACCESS_TOKEN is used as it is)");
    expect(line("API domain")).toMatch(/^✗ API domain: http:\/\/127\.0\.0\.1:\d+\/crm\/v7: ACCESS_TOKEN_EXPIRED/);
    expect(out).not.toContain("0123456789abcdef0123456789abcdef");
  });

  it("a CRM failing with 5xx: the API domain check says so after the retries", async () => {
    const { code, line } = await run({}, {}, (c) => {
      c.faults.status5xx = 100;
      c.faults.status5xxCode = 503;
    });
    expect(code).toBe(1);
    expect(line("API domain")).toMatch(/^✗ API domain: .*INTERNAL_ERROR \(HTTP 503\)/);
  });

  it("invalid settings: the variable named, the rest not run, exit 1", async () => {
    const { code, line, out } = await run({}, { ZOHO_DC: "mars" });
    expect(code).toBe(1);
    expect(line("settings")).toBe("✗ settings: ZOHO_DC must be one of us, eu, in, au, jp, cn, ca, sa, uk, ae");
    expect(out).toContain("- token refresh: not checked (needs valid settings)");
  });
});

describe("doctor from the bundle", () => {
  it("`doctor --demo` checks the built-in demo CRM: stdout only, exit 0", () => {
    const r = spawnSync(process.execPath, [BIN, "doctor", "--demo"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ZOHO_MCP_QUIET: "1" }, timeout: 30_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^✓ settings: self-client demo-client-id, US data center, production\n/);
    expect(r.stdout).toContain("All required checks passed.");
  });
});
