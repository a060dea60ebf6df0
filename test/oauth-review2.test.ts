import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pLimit from "p-limit";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { DEMO } from "../src/demo/seed.js";
import { Logger, redact } from "../src/log.js";
import { loadSignInSettings, parseTrustProxy } from "../src/oauth/http.js";
import { UserTokens } from "../src/oauth/sessions.js";
import { refreshAccessToken } from "../src/oauth/zoho-accounts.js";
import { loadHttpOptions } from "../src/transports/http.js";
import { ZohoClient } from "../src/zoho/client.js";
import { CANARY } from "./helpers.js";
import { Browser, connectSignedIn, formOf, startSignInServer, type SignInServer } from "./oauth-helpers.js";
import { REDIRECT, authorizeUrl, pkce, register, registerClient } from "./oauth-raw.js";

/**
 * The second attacker's review of the remote modes (issue 17): one block per finding, each
 * reproduced against the code before the fix.
 */

/** A loopback HTTP server answering every request with `answer(url, headers)`; it records what it was sent. */
async function fakeServer(answer: (url: string, headers: Record<string, string | string[] | undefined>) => { status: number; body: unknown }): Promise<{ url: string; seen: Array<Record<string, string | string[] | undefined>>; close(): Promise<void> }> {
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on("end", () => {
      const { status, body } = answer(req.url ?? "/", req.headers);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const text = (result: CallToolResult) => result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

describe("finding 2: a signed-in user's Zoho access token is redacted like the self-client's", () => {
  it("a Zoho error that echoes the token reaches neither the tool result nor the log", async () => {
    // Zoho's API, as a fault would have it: every answer repeats the Authorization header it got.
    const api = await fakeServer((_url, headers) => {
      const token = String(headers.authorization ?? "").replace(/^Zoho-oauthtoken /, "");
      return { status: 400, body: { code: "INVALID_DATA", details: { token }, message: `invalid token ${token}`, status: "error" } };
    });
    const s = await startSignInServer({ env: { ZOHO_API_DOMAIN: api.url } });
    const logged: string[] = [];
    try {
      const { client } = await connectSignedIn(s.mcpUrl, "patricia");
      const result = (await client.callTool({ name: "list_related_lists", arguments: { module_api_name: "Leads" } })) as CallToolResult;
      const zohoToken = String(api.seen.at(-1)?.authorization).replace(/^Zoho-oauthtoken /, "");
      expect(zohoToken.length).toBeGreaterThan(20);
      expect(result.isError).toBe(true);
      expect(text(result)).toContain("invalid token [redacted]");
      expect(text(result)).not.toContain(zohoToken);
      logged.push(redact(`a log line with ${zohoToken}`));
      expect(logged[0]).toBe("a log line with [redacted]");
      await client.close();
    } finally {
      await s.close();
      await api.close();
    }
  });
});

describe("finding 3: Zoho's error string is passed on whole or not at all", () => {
  it("an error that echoes the refresh token becomes 'unrecognised error'; a code such as invalid_code goes on", async () => {
    const refreshToken = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
    let answer: unknown = { error: `invalid_code ${refreshToken}` };
    const accounts = await fakeServer(() => ({ status: 200, body: answer }));
    const settings = { clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, accountsUrl: accounts.url, redirectUri: "http://127.0.0.1/oauth/callback", timeoutMs: 5000 };
    try {
      const echoed = await refreshAccessToken(settings, accounts.url, refreshToken).catch((e: Error & { code: string }) => e);
      expect(echoed).toMatchObject({ name: "AccountsError", code: "unrecognised error", message: "Zoho refused: unrecognised error" });
      // Before: cut to 60 characters, the first 47 of the token went on (too short a piece for redaction to know).
      expect(JSON.stringify(echoed)).not.toContain(refreshToken.slice(0, 12));
      answer = { error: "invalid_code" };
      expect(await refreshAccessToken(settings, accounts.url, refreshToken).catch((e: Error & { code: string }) => e.code)).toBe("invalid_code");
      answer = { error: "Access Denied", error_description: "You have made too many requests continuously." };
      expect(await refreshAccessToken(settings, accounts.url, refreshToken).catch((e: Error & { code: string }) => e.code)).toBe("Access Denied");
    } finally {
      await accounts.close();
    }
  });
});

describe("finding 4: MCP_OAUTH_SECRET must be random", () => {
  const env = (secret: string) => ({ MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: secret });
  const weak: Array<[string, string]> = [
    ["the base64 alphabet in order", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"],
    ["the hex of sha256(\"secret\")", createHash("sha256").update("secret").digest("hex")],
    ["base64 of an English sentence", Buffer.from("This is the secret that seals our tokens, keep it safe").toString("base64")],
    ["bytes 0 to 31", Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString("base64")],
    ["bytes counting by 7", Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7 + 1)).toString("base64")],
    ["16 random bytes twice", ((b) => Buffer.concat([b, b]).toString("base64"))(randomBytes(16))],
    ["16 different bytes shuffled", Buffer.from(Array.from({ length: 48 }, (_, i) => (i * 5) % 16 * 13)).toString("base64")],
  ];
  for (const [what, secret] of weak) {
    it(`refuses ${what}, saying how to make one`, () => {
      expect(() => loadSignInSettings(env(secret), { demo: false })).toThrow(/^MCP_OAUTH_SECRET is not random enough \(.+\); make one with: openssl rand -base64 32$/);
    });
  }

  it("takes 2000 outputs of openssl rand -base64 32 (and 48, 64) without one refusal", () => {
    for (let i = 0; i < 2000; i++) {
      const secret = randomBytes([32, 48, 64][i % 3]!).toString(i % 2 ? "base64" : "base64url");
      expect(loadSignInSettings(env(secret), { demo: false }).secret.length).toBeGreaterThanOrEqual(32);
    }
  });
});

describe("finding 5: the consent page cannot be spoofed by a registered name", () => {
  let s: SignInServer;
  beforeAll(async () => {
    s = await startSignInServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it("a registered 'Claude (claude.ai)' is quoted and marked as its own claim; bidi and zero-width characters are gone", async () => {
    const clientId = await register(s.origin, { client_name: "Claude (claude.ai)\u202e\u200bmoc.live\u2066" });
    const html = await (await fetch(authorizeUrl(s.origin, clientId, pkce().challenge))).text();
    expect(html).toContain("<strong>\u201cClaude (claude.ai)moc.live\u201d</strong>");
    expect(html).toContain("is the name this client gave itself when it registered; this server has not verified it.");
    expect(html).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200b-\u200f]/);
    expect(html).not.toContain("<strong>Claude (claude.ai)</strong>");
  });

  it("invisible letters, stacked and enclosing marks are gone from the name; a double quote in it cannot close the page's quote", async () => {
    // Hangul fillers and the grapheme joiner draw nothing; 12 stacked marks reach over the lines
    // around; an enclosing circle draws over its neighbours; `"` would end the quote and go on as the page's words.
    const zalgo = "\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a\u030b";
    const name = `\u3164\u0301Cla${zalgo}ude\u115f\u1160\u034f\uffa0\u2800\u20dd" verified by "Zoho`;
    const clientId = await register(s.origin, { client_name: name });
    const html = await (await fetch(authorizeUrl(s.origin, clientId, pkce().challenge))).text();
    // Two marks kept, composed as the page shows them: a with U+0300 is à.
    expect(html).toContain("<strong>\u201cCl\u00e0\u0301ude&#39; verified by &#39;Zoho\u201d</strong>");
    expect(html).toContain("<p class=\"where\">\u201cCl\u00e0\u0301ude&#39; verified by &#39;Zoho\u201d is the name this client gave itself");
    expect(html).not.toMatch(/[\u034f\u115f\u1160\u3164\uffa0\u2800\u20dd\u0302-\u030b]/);
    expect(html).not.toContain("&#34;");
    // Words in other scripts keep their marks (two at most on a character: Vietnamese, Devanagari, Thai).
    const world = await register(s.origin, { client_name: "Việt नमस्ते ไทย่" });
    expect(await (await fetch(authorizeUrl(s.origin, world, pkce().challenge))).text()).toContain("\u201cViệt नमस्ते ไทย่\u201d");
  });
});

describe("finding 6: a loopback redirect URI matches as registered, its port alone aside", () => {
  let s: SignInServer;
  let clientId: string;
  beforeAll(async () => {
    s = await startSignInServer();
    clientId = await register(s.origin);
  });
  afterAll(async () => {
    await s.close();
  });

  const loose = [
    "http://127.0.0.1:4000/callback#fragment",
    "http://127.0.0.1:4000/callback#",
    "http://user@127.0.0.1:4000/callback",
    "http://0x7f.0.0.1:4000/callback",
    "http://127.0.0.1:4000/x/../callback",
    "http://127.0.0.1:4000/./callback",
    "http://localhost:4000/callback",
  ];
  for (const uri of loose) {
    it(`refuses ${uri} with our error page, no redirect`, async () => {
      const response = await fetch(authorizeUrl(s.origin, clientId, pkce().challenge, { redirect_uri: uri }), { redirect: "manual" });
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toContain("redirect_uri is not one this client registered");
    });
  }

  it("another port of the registered loopback URI is still taken (RFC 8252 7.3), and registration refuses the loose forms", async () => {
    const ok = await fetch(authorizeUrl(s.origin, clientId, pkce().challenge, { redirect_uri: "http://127.0.0.1:4000/callback" }), { redirect: "manual" });
    expect(ok.status).toBe(200);
    expect(REDIRECT).toBe("http://127.0.0.1:53682/callback");
    for (const uri of ["http://127.0.0.1:4000/callback#", "http://127.0.0.1/a/../callback", "https://app.example.com/./cb", "https://app.example.com\\@evil.example/cb"]) {
      expect((await registerClient(s.origin, { redirect_uris: [uri] })).status, uri).toBe(400);
    }
  });
});

describe("finding 7: X-Forwarded-For is believed from no one unless MCP_TRUST_PROXY names them", () => {
  async function statuses(s: SignInServer, addresses: string[]): Promise<number[]> {
    const url = authorizeUrl(s.origin, await register(s.origin), pkce().challenge);
    const out: number[] = [];
    for (const forwardedFor of addresses) out.push((await fetch(url, { redirect: "manual", headers: { "x-forwarded-for": forwardedFor } })).status);
    return out;
  }

  it("by default a loopback peer (ssh -L, port-forward) cannot pick a new address per request past the limits", async () => {
    expect(parseTrustProxy(undefined)).toBe(0);
    expect(loadSignInSettings({ MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: randomBytes(32).toString("base64") }, { demo: false }).trustProxy).toBe(0);
    const s = await startSignInServer({ settings: { rateLimit: { authorize: 2 }, trustProxy: parseTrustProxy(undefined) } });
    try {
      expect(await statuses(s, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])).toEqual([200, 200, 429]);
    } finally {
      await s.close();
    }
  });

  it("MCP_TRUST_PROXY=loopback (a reverse proxy on this machine) gives each forwarded address its own bucket", async () => {
    const s = await startSignInServer({ settings: { rateLimit: { authorize: 2 }, trustProxy: parseTrustProxy("loopback") } });
    try {
      expect(await statuses(s, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])).toEqual([200, 200, 200]);
    } finally {
      await s.close();
    }
  });
});

describe("finding 9: loose settings are refused, naming the setting", () => {
  it("a guessable MCP_HTTP_TOKEN", () => {
    for (const token of ["aaaaaaaaaaaaaaaa", "abababababababab", "abcdefghijklmnop", "0123456789012345", "password123password123"]) {
      expect(() => loadHttpOptions({ host: "0.0.0.0" }, { MCP_HTTP_TOKEN: token }), token).toThrow(/^MCP_HTTP_TOKEN is guessable \(.+\): use a long random string, e.g\. openssl rand -hex 32$/);
    }
    for (let i = 0; i < 200; i++) expect(loadHttpOptions({ host: "0.0.0.0" }, { MCP_HTTP_TOKEN: randomBytes(32).toString("hex") }).token).toBeDefined();
  });

  it("MCP_TRUST_PROXY=0.0.0.0/0 or ::/0 (everyone's X-Forwarded-For believed)", () => {
    for (const everyone of ["0.0.0.0/0", "::/0", "10.0.0.0/8,0.0.0.0/1", "2000::/3"]) expect(() => parseTrustProxy(everyone), everyone).toThrow(/^MCP_TRUST_PROXY: .* would trust X-Forwarded-For from a large part of the internet/);
    expect(parseTrustProxy("10.0.0.0/8,fd00::/16")).toEqual(["10.0.0.0/8", "fd00::/16"]);
  });

  it("a password in MCP_PUBLIC_URL is refused, not silently dropped", () => {
    expect(() => loadSignInSettings({ MCP_PUBLIC_URL: "https://:hunter2@crm.example.com", MCP_OAUTH_SECRET: randomBytes(32).toString("base64") }, { demo: false })).toThrow(/^MCP_PUBLIC_URL must be the origin clients reach.*no user name or password/);
  });

  it("/register refuses response_types other than code instead of ignoring them", async () => {
    const s = await startSignInServer();
    try {
      const token = await registerClient(s.origin, { response_types: ["token"] });
      expect(token.status).toBe(400);
      expect(await token.json()).toEqual({ error: "invalid_client_metadata", error_description: "response_types may only hold code (the implicit flow is not offered)" });
      expect((await registerClient(s.origin, { response_types: ["code"] })).status).toBe(201);
    } finally {
      await s.close();
    }
  });
});

describe("finding 10: PKCE towards Zoho too", () => {
  it("the way to Zoho carries an S256 challenge; a code caught on its way back is useless without the verifier, which only our sealed state holds", async () => {
    const s = await startSignInServer();
    try {
      const browser = new Browser();
      const consent = formOf(await (await browser.get(authorizeUrl(s.origin, await register(s.origin), pkce().challenge))).text());
      const toZoho = new URL((await browser.post(new URL(consent.action, s.origin).href, { ...consent.fields, choice: "allow" })).headers.get("location")!);
      expect(toZoho.searchParams.get("code_challenge_method")).toBe("S256");
      expect(toZoho.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // The verifier is nowhere in what the browser sees (the state is sealed).
      expect(toZoho.href).not.toMatch(/code_verifier/);
      const signInPage = formOf(await (await browser.get(toZoho.href)).text());
      const back = new URL((await browser.post(new URL(signInPage.action, toZoho).href, { ...signInPage.fields, user: "patricia" })).headers.get("location")!);
      const code = back.searchParams.get("code")!;
      // Whoever catches the code, even with the client secret, gets nothing from Zoho without the verifier.
      const stolen = await fetch(`${s.crm.url}/oauth/v2/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "authorization_code", client_id: CANARY.clientId, client_secret: CANARY.clientSecret, redirect_uri: `${s.origin}/oauth/callback`, code }),
      });
      expect(await stolen.json()).toEqual({ error: "invalid_code" });
    } finally {
      await s.close();
    }
  });
});

describe("every hint fits the mode the server runs in", () => {
  it("signed in per user, a missing scope says to sign in again, never to create a refresh token", async () => {
    const s = await startSignInServer();
    try {
      const { client } = await connectSignedIn(s.mcpUrl, "patricia");
      // The demo CRM serves the Accounts' Cases list only with a scope no sign-in is granted.
      const result = (await client.callTool({ name: "get_related_records", arguments: { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Cases", fields: ["Subject"] } })) as CallToolResult;
      expect(text(result)).toMatch(/^Zoho error OAUTH_SCOPE_MISMATCH/);
      expect(text(result)).toContain("This sign-in's Zoho token lacks the scope to read this: ZohoCRM.modules.READ, or ZohoCRM.modules.accounts.READ and ZohoCRM.modules.cases.READ. Sign in again from your MCP client");
      expect(text(result)).not.toMatch(/refresh token|ZOHO_REFRESH_TOKEN|ZOHO_DC|grant it/);
      await client.close();
    } finally {
      await s.close();
    }
  });

  it("with a bare ZOHO_ACCESS_TOKEN the advice is a new access token; signed in, no ZOHO_DC advice the person cannot follow", async () => {
    let answer = { status: 401, body: { code: "OAUTH_SCOPE_MISMATCH", details: {}, message: "invalid oauth scope to access this URL", status: "error" } };
    const api = await fakeServer(() => answer);
    try {
      const config = loadConfig({ ZOHO_ACCESS_TOKEN: "1000.static-access-token-for-the-test", ZOHO_API_DOMAIN: api.url, ZOHO_ACCOUNTS_URL: api.url });
      const error = (await new ZohoClient(config, new Logger(false)).get("Leads/1/Notes").catch((e: unknown) => e)) as { render(): string };
      expect(error.render()).toContain("then generate a new ZOHO_ACCESS_TOKEN with it. Retrying will not help.");
      expect(error.render()).not.toContain("refresh token");

      answer = { status: 400, body: { code: "INVALID_URL_PATTERN", details: {}, message: "Please check if the URL trying to access is a correct one", status: "error" } };
      const signin = loadConfig({ ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_ACCOUNTS_URL: api.url, ZOHO_API_DOMAIN: api.url }, { signIn: true });
      const tokens = new UserTokens("1000.user-token-abcdefghijkl", Date.now() + 3_600_000);
      const failure = (await new ZohoClient(signin, new Logger(false), { tokens, limit: pLimit(1), concurrency: 1 }).get("Leads").catch((e: unknown) => e)) as { render(): string };
      expect(failure.render()).toContain("What to do: The request URL is wrong. Check the module, record id and related list API names.");
      expect(failure.render()).not.toContain("ZOHO_DC");
    } finally {
      await api.close();
    }
  });
});
