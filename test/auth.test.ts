import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig } from "../src/config.js";
import { Logger } from "../src/log.js";
import { TokenManager, apiDomainAccepted } from "../src/zoho/auth.js";
import { ZohoError, fitToMode, scopeHint, tooManyRequestsHint } from "../src/zoho/errors.js";
import { CANARY } from "./helpers.js";

/** An accounts server that answers whatever the test puts in `next`, counting requests. */
let server: Server;
let url: string;
let next: { status: number; type: string; body: string };
let requests = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(next.status, { "content-type": next.type }).end(next.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const tokens = () =>
  new TokenManager(
    loadConfig({ ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken, ZOHO_ACCOUNTS_URL: url }),
    new Logger(false),
  );
const failure = (t: TokenManager) => t.get().then(() => undefined, (e: unknown) => e as { code: string; message: string; status?: number });

test("an outage page from the accounts server is a clear TOKEN_REFRESH_FAILED, not remembered", async () => {
  const t = tokens();
  next = { status: 503, type: "text/html", body: "<html><body>Service Unavailable</body></html>" };
  requests = 0;
  const error = await failure(t);
  expect(error).toMatchObject({ code: "TOKEN_REFRESH_FAILED", status: 503 });
  expect(error?.message).toContain("answered HTTP 503 without a JSON body");
  next = { status: 200, type: "application/json", body: "null" };
  expect(await failure(t)).toMatchObject({ code: "TOKEN_REFRESH_FAILED", status: 200 });
  expect(requests).toBe(2); // the outage was not remembered: the second call asked again
  next = { status: 200, type: "application/json", body: JSON.stringify({ access_token: "1000.fresh.token", expires_in: 3600, api_domain: url }) };
  expect(await t.get()).toBe("1000.fresh.token");
});

test("Zoho's verdict on the credentials (HTTP 200 with error) is remembered: no second request", async () => {
  const t = tokens();
  next = { status: 200, type: "application/json", body: JSON.stringify({ error: "invalid_code" }) };
  requests = 0;
  const error = await failure(t);
  expect(error).toMatchObject({ code: "TOKEN_REFRESH_FAILED" });
  expect(error?.message).toContain("refused the refresh token (invalid_code)");
  expect(error?.message).not.toContain(CANARY.clientSecret);
  expect(error?.message).not.toContain(CANARY.refreshToken);
  expect(await failure(t)).toMatchObject({ code: "TOKEN_REFRESH_FAILED" });
  expect(requests).toBe(1);
});

describe("api_domain: only a Zoho API host may receive the access token", () => {
  const tokensFor = (accountsUrl: string, extra: Record<string, string> = {}) =>
    new TokenManager(
      loadConfig({ ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken, ZOHO_ACCOUNTS_URL: accountsUrl, ...extra }),
      new Logger(false),
    );

  test.each([
    "https://www.zohoapis.eu",
    "https://www.zohoapis.com.au",
    "https://sandbox.zohoapis.com",
    "https://www.zohoapis.ca",
    "https://www.zohoapis.ae",
  ])("%s is accepted", async (apiDomain) => {
    const t = tokensFor(url);
    next = { status: 200, type: "application/json", body: JSON.stringify({ access_token: "1000.ok.token", expires_in: 3600, api_domain: apiDomain }) };
    expect(await t.get()).toBe("1000.ok.token");
    expect(t.apiDomain).toBe(apiDomain);
  });

  test.each([
    "https://evil.example.com",
    "http://www.zohoapis.com",
    "https://zohoapis.com.evil.example",
    "https://www.zohoapis.com.attacker.io",
    "https://user@www.zohoapis.com",
    "not a url",
  ])("%s is refused: UNTRUSTED_API_DOMAIN, the token goes nowhere", async (apiDomain) => {
    const t = tokensFor(url);
    next = { status: 200, type: "application/json", body: JSON.stringify({ access_token: "1000.stolen.token", expires_in: 3600, api_domain: apiDomain }) };
    const error = await failure(t);
    expect(error).toMatchObject({ code: "UNTRUSTED_API_DOMAIN" });
    expect(error?.message).toContain(`named api_domain ${JSON.stringify(apiDomain)}`);
    expect(t.apiDomain).toBeUndefined();
    expect(t.renewsAt).toBeUndefined();
  });

  test("a loopback api_domain only from a loopback accounts server (the demo, tests)", async () => {
    const t = tokensFor(url);
    next = { status: 200, type: "application/json", body: JSON.stringify({ access_token: "1000.local.token", expires_in: 3600, api_domain: "http://127.0.0.1:9" }) };
    expect(await t.get()).toBe("1000.local.token");
    expect(apiDomainAccepted("http://127.0.0.1:9", { accountsUrl: "https://accounts.zoho.com", apiDomain: "https://www.zohoapis.com", apiDomainPinned: false })).toBe(false);
  });

  test("with ZOHO_API_DOMAIN pinned, the api_domain the accounts server names is not used, so it cannot fail the refresh", async () => {
    const t = tokensFor(url, { ZOHO_API_DOMAIN: "https://www.zohoapis.eu" });
    next = { status: 200, type: "application/json", body: JSON.stringify({ access_token: "1000.pinned.token", expires_in: 3600, api_domain: "https://evil.example.com" }) };
    expect(await t.get()).toBe("1000.pinned.token");
    expect(t.apiDomain).toBeUndefined();
  });

  test("the pinned ZOHO_API_DOMAIN is accepted as named", () => {
    expect(apiDomainAccepted("https://crm.example.internal", { accountsUrl: "https://accounts.zoho.com", apiDomain: "https://crm.example.internal", apiDomainPinned: true })).toBe(true);
    expect(apiDomainAccepted("https://crm.example.internal", { accountsUrl: "https://accounts.zoho.com", apiDomain: "https://www.zohoapis.com", apiDomainPinned: false })).toBe(false);
  });
});

describe("scope hints use Zoho's scope names", () => {
  test.each([
    ["/crm/v7/Sales_Orders/1/Notes", "ZohoCRM.modules.salesorders.READ and ZohoCRM.modules.notes.READ"],
    ["/crm/v7/Purchase_Orders/1/Attachments", "ZohoCRM.modules.purchaseorders.READ and ZohoCRM.modules.attachments.READ, then"],
    ["/crm/v7/Deals/1/Attachments/2", "ZohoCRM.modules.deals.READ and ZohoCRM.modules.attachments.READ, then"],
    ["/crm/v7/Leads/1/Activities_Chronological_View", "ZohoCRM.modules.leads.READ, ZohoCRM.modules.tasks.READ, ZohoCRM.modules.calls.READ and ZohoCRM.modules.events.READ, then"],
    ["/crm/v7/Accounts/1/Activities_Chronological_View_History", "ZohoCRM.modules.accounts.READ, ZohoCRM.modules.tasks.READ, ZohoCRM.modules.calls.READ and ZohoCRM.modules.events.READ, then"],
    ["/crm/v7/Deals/1/Stage_History", "ZohoCRM.modules.deals.READ and the READ scope of the module the Stage_History list holds (list_related_lists names it; ZohoCRM.modules.custom.READ for a custom module)"],
    ["/crm/v7/Price_Books/1/Products", "ZohoCRM.modules.pricebooks.READ and ZohoCRM.modules.products.READ"],
    ["/crm/v7/Projects_X/1/Contacts", "ZohoCRM.modules.custom.READ and ZohoCRM.modules.contacts.READ"],
    ["/crm/v7/Leads/1/Notes", "ZohoCRM.modules.leads.READ and ZohoCRM.modules.notes.READ"],
    ["/crm/v7/Contacts/1/Emails", "ZohoCRM.modules.contacts.READ and ZohoCRM.modules.emails.READ"],
    ["/crm/v7/Leads/1/Leads", "ZohoCRM.modules.leads.READ, then"],
    ["/crm/v7/Deals/1", "ZohoCRM.modules.deals.READ, then"],
  ])("%s", (path, scopes) => {
    expect(scopeHint(path)).toContain(`grant ZohoCRM.modules.READ, or ${scopes}`);
  });
  test("settings lists", () => {
    expect(scopeHint("/crm/v7/settings/related_lists")).toBe("The OAuth client lacks ZohoCRM.settings.related_lists.READ: grant it, then create a new refresh token with it. Retrying will not help.");
  });
  test("Search Records: ZohoSearch.securesearch.READ beside the module's scope", () => {
    expect(scopeHint("/crm/v7/Contacts/search")).toBe("The OAuth client lacks the scope to search this: grant ZohoSearch.securesearch.READ and ZohoCRM.modules.READ (or ZohoCRM.modules.contacts.READ), then create a new refresh token with it. Retrying will not help.");
  });
  test("the org (web addresses)", () => {
    expect(scopeHint("/crm/v7/org")).toBe("The OAuth client lacks ZohoCRM.org.READ: grant it, then create a new refresh token with it. Retrying will not help.");
  });
});

describe("TOO_MANY_REQUESTS advice is one wording in every mode", () => {
  test("signed in, the code without a 429 (so without the answer's own hint) gets the 429 wording of that mode", () => {
    // A 429 always gets its hint from the answer (client.ts); only this path used the signin table's own text.
    const fitted = fitToMode(new ZohoError({ status: 200, code: "TOO_MANY_REQUESTS", message: "" }), "signin") as ZohoError;
    expect(fitted.hint).toBe(tooManyRequestsHint("", undefined, "signin"));
    expect(fitted.hint).toContain("Zoho answers both of its limits with this code");
    expect(fitted.hint).not.toContain("ZOHO_CONCURRENCY"); // the operator's setting, not the person's
    expect(fitted.hint).not.toMatch(/wait a minute/i);
  });
});
