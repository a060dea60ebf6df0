import { describe, expect, it, test } from "vitest";
import { ConfigError, DATA_CENTERS, apiDomainFor, demoRequested, loadConfig } from "../src/config.js";
import { authorizationUrl, trustedAccountsServer } from "../src/oauth/zoho-accounts.js";
import { SETUP_SCOPES } from "../src/zoho/grant.js";

const creds = { ZOHO_CLIENT_ID: "1000.ABC", ZOHO_CLIENT_SECRET: "s3cr3t-value-123", ZOHO_REFRESH_TOKEN: "1000.refresh.value" };

describe("data centers", () => {
  test.each([
    ["us", "https://accounts.zoho.com", "https://www.zohoapis.com"],
    ["eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu"],
    ["in", "https://accounts.zoho.in", "https://www.zohoapis.in"],
    ["au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"],
    ["jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp"],
    ["cn", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"],
    ["ca", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"],
    ["sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa"],
    ["uk", "https://accounts.zoho.uk", "https://www.zohoapis.uk"],
    ["ae", "https://accounts.zoho.ae", "https://www.zohoapis.ae"],
  ])("%s: accounts %s, api %s", (dc, accounts, api) => {
    const config = loadConfig({ ...creds, ZOHO_DC: dc.toUpperCase() });
    expect(config.accountsUrl).toBe(accounts);
    expect(config.apiDomain).toBe(api);
    expect(config.apiDomainPinned).toBe(false);
  });

  test("all ten data centers are known", () => {
    expect(Object.keys(DATA_CENTERS).sort()).toEqual(["ae", "au", "ca", "cn", "eu", "in", "jp", "sa", "uk", "us"]);
  });

  test("sign-in trusts each data center's accounts host in Zoho's accounts-server, the UAE's included", () => {
    for (const dc of Object.values(DATA_CENTERS)) expect(trustedAccountsServer(dc.accounts, "https://accounts.zoho.com")).toBe(dc.accounts);
    expect(trustedAccountsServer("https://accounts.zoho.ae", "https://accounts.zoho.com")).toBe("https://accounts.zoho.ae");
    expect(trustedAccountsServer("https://accounts.zoho.example", "https://accounts.zoho.com")).toBeUndefined();
  });

  test("setup and sign-in ask for the Emails scope beside the modules scope (Zoho's Emails pages name both)", () => {
    const url = new URL(authorizationUrl({ clientId: "1000.ABC", clientSecret: "x", accountsUrl: "https://accounts.zoho.com", redirectUri: "https://mcp.example.com/oauth/callback", timeoutMs: 1000 }, "state"));
    expect(url.searchParams.get("scope")!.split(",")).toEqual(expect.arrayContaining(["ZohoCRM.modules.READ", "ZohoCRM.modules.emails.READ"]));
    expect(SETUP_SCOPES.split(",")).toEqual(expect.arrayContaining(["ZohoCRM.modules.READ", "ZohoCRM.modules.emails.READ"]));
  });

  test("sandbox and developer hosts of a data center, pinned over the token's api_domain", () => {
    expect(apiDomainFor("eu", "sandbox")).toBe("https://sandbox.zohoapis.eu");
    expect(apiDomainFor("au", "developer")).toBe("https://developer.zohoapis.com.au");
    const config = loadConfig({ ...creds, ZOHO_DC: "in", ZOHO_ENVIRONMENT: "sandbox" });
    expect(config.apiDomain).toBe("https://sandbox.zohoapis.in");
    expect(config.apiDomainPinned).toBe(true);
  });

  test("overrides win and lose their trailing slash", () => {
    const config = loadConfig({ ...creds, ZOHO_ACCOUNTS_URL: "http://127.0.0.1:9/", ZOHO_API_DOMAIN: "http://127.0.0.1:8//" });
    expect(config.accountsUrl).toBe("http://127.0.0.1:9");
    expect(config.apiDomain).toBe("http://127.0.0.1:8");
    expect(config.apiDomainPinned).toBe(true);
  });
});

describe("defaults and limits", () => {
  test("defaults", () => {
    const c = loadConfig(creds);
    expect(c).toMatchObject({ dc: "us", environment: "production", maxRecords: 2000, concurrency: 4, timeoutMs: 30000 });
    expect(c.auth).toEqual({ kind: "refresh", clientId: "1000.ABC", clientSecret: "s3cr3t-value-123", refreshToken: "1000.refresh.value" });
  });
  test("numbers from strings; empty strings count as unset", () => {
    const c = loadConfig({ ...creds, ZOHO_MAX_RECORDS: "10000", ZOHO_CONCURRENCY: "5", ZOHO_TIMEOUT_MS: "", ZOHO_DC: "" });
    expect(c).toMatchObject({ maxRecords: 10000, concurrency: 5, timeoutMs: 30000, dc: "us" });
  });
  test("null and unfilled MCPB placeholders count as unset", () => {
    const c = loadConfig({ ...creds, ZOHO_MAX_RECORDS: "null", ZOHO_DC: "${user_config.data_center}", ZOHO_ACCESS_TOKEN: "${user_config.access_token}" });
    expect(c).toMatchObject({ maxRecords: 2000, dc: "us", auth: { kind: "refresh" } });
  });
  test("a static access token alone is enough", () => {
    expect(loadConfig({ ZOHO_ACCESS_TOKEN: "1000.static.token" }).auth).toEqual({ kind: "static", accessToken: "1000.static.token" });
  });
});

describe("refusals name the variable and never echo a secret", () => {
  test.each([
    [{ ...creds, ZOHO_DC: "mars" }, /^ZOHO_DC must be one of us, eu, in, au, jp, cn, ca, sa, uk, ae/],
    [{ ...creds, ZOHO_ENVIRONMENT: "staging" }, /^ZOHO_ENVIRONMENT must be one of production, sandbox, developer/],
    [{ ...creds, ZOHO_MAX_RECORDS: "0" }, /^ZOHO_MAX_RECORDS must be at least 1/],
    [{ ...creds, ZOHO_MAX_RECORDS: "ten" }, /^ZOHO_MAX_RECORDS must be a whole number/],
    [{ ...creds, ZOHO_CONCURRENCY: "2.5" }, /^ZOHO_CONCURRENCY must be a whole number/],
    [{ ...creds, ZOHO_CONCURRENCY: "99" }, /^ZOHO_CONCURRENCY must be at most 25/],
    [{ ...creds, ZOHO_TIMEOUT_MS: "-1" }, /^ZOHO_TIMEOUT_MS must be at least 1/],
    [{ ...creds, ZOHO_ACCOUNTS_URL: "ftp://x" }, /^ZOHO_ACCOUNTS_URL must be an http\(s\) URL/],
    [{ ...creds, ZOHO_API_DOMAIN: "not a url" }, /^ZOHO_API_DOMAIN must be an http\(s\) URL/],
    [{ ZOHO_CLIENT_ID: "1000.ABC", ZOHO_CLIENT_SECRET: "s3cr3t-value-123" }, /^ZOHO_REFRESH_TOKEN is missing/],
    [{}, /ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN are missing \(or set ZOHO_ACCESS_TOKEN\)/],
  ])("%o", (env, message) => {
    let error: unknown;
    try {
      loadConfig(env as NodeJS.ProcessEnv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("s3cr3t-value-123");
  });
});

describe("plain http only on loopback", () => {
  test.each(["ZOHO_ACCOUNTS_URL", "ZOHO_API_DOMAIN"])("%s=http://accounts.example.com is refused, naming the variable", (name) => {
    expect(() => loadConfig({ ...creds, [name]: "http://accounts.example.com" })).toThrow(
      new ConfigError(`${name} must be an https URL (plain http only for a loopback address such as http://127.0.0.1:8080)`),
    );
  });
  test.each(["http://127.0.0.1:8080", "http://localhost:3000", "http://[::1]:9000", "https://accounts.example.com"])("%s is accepted", (value) => {
    expect(loadConfig({ ...creds, ZOHO_ACCOUNTS_URL: value, ZOHO_API_DOMAIN: value }).accountsUrl).toBe(value);
  });
});

describe("demoRequested (ZOHO_DEMO, the .mcpb's Demo mode switch)", () => {
  it.each([
    [undefined, false],
    ["", false],
    ["0", false],
    ["false", false],
    ["FALSE", false],
    ["${user_config.demo}", false],
    ["1", true],
    ["true", true],
    [" True ", true],
  ])("ZOHO_DEMO=%j is %s", (value, expected) => {
    expect(demoRequested({ ZOHO_DEMO: value })).toBe(expected);
  });

  it("refuses anything else, naming the variable", () => {
    expect(() => demoRequested({ ZOHO_DEMO: "yes please" })).toThrow(/^ZOHO_DEMO must be 1 or true/);
  });
});
