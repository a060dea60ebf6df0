import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { Sealer } from "../src/oauth/seal.js";
import { CANARY } from "./helpers.js";
import { Browser, TestOAuthProvider, connectSignedIn, formOf, signInWithBrowser, startSignInServer, type SignInServer } from "./oauth-helpers.js";
import { REDIRECT, authorizeUrl, pkce, register, tokenRequest } from "./oauth-raw.js";

const text = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

/** One raw sign-in up to tokens: register, authorize with PKCE, browser steps, code exchange. */
async function rawSignIn(origin: string, user: "patricia" | "ravi" = "patricia"): Promise<{ clientId: string; access: string; refresh: string }> {
  const clientId = await register(origin);
  const { verifier, challenge } = pkce();
  const back = await signInWithBrowser(authorizeUrl(origin, clientId, challenge), { user });
  const code = back.searchParams.get("code")!;
  const { status, body } = await tokenRequest(origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT, resource: `${origin}/mcp` });
  expect(status, JSON.stringify(body)).toBe(200);
  return { clientId, access: String(body.access_token), refresh: String(body.refresh_token) };
}

async function mcpCall(url: string, bearer: string | undefined, body: unknown = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
}

describe("per-user sign-in with the SDK's own client", () => {
  let s: SignInServer;
  beforeAll(async () => {
    s = await startSignInServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it("401 names the protected resource metadata; the metadata names this server as its authorization server", async () => {
    const response = await mcpCall(s.mcpUrl, undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${s.origin}/.well-known/oauth-protected-resource/mcp"`);
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const prm = (await (await fetch(`${s.origin}${path}`)).json()) as Record<string, unknown>;
      expect(prm).toMatchObject({ resource: `${s.origin}/mcp`, authorization_servers: [s.origin] });
    }
    const as = (await (await fetch(`${s.origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(as).toMatchObject({
      issuer: s.origin,
      authorization_endpoint: `${s.origin}/authorize`,
      token_endpoint: `${s.origin}/token`,
      registration_endpoint: `${s.origin}/register`,
      revocation_endpoint: `${s.origin}/revoke`,
      code_challenge_methods_supported: ["S256"],
      client_id_metadata_document_supported: true,
    });
  });

  it("discovery, registration, PKCE, consent, demo sign-in, callback, token, tool calls; then refresh", async () => {
    const { client, provider } = await connectSignedIn(s.mcpUrl, "patricia");
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain("get_related_records");
    // Patricia (administrator) reads Zylker's Invoices, which the self-client may not.
    const invoices = (await client.callTool({ name: "get_related_records", arguments: { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Invoices", fields: ["Subject"] } })) as CallToolResult;
    expect(invoices.isError, text(invoices)).toBeFalsy();
    expect((invoices.structuredContent as { records: Array<{ id: string }> }).records.map((r) => r.id).sort()).toEqual([...DEMO.invoiceIds].sort());
    // Every CRM request carried a Zoho token of Patricia's, never the self-client's.
    expect(s.crm.stats.requests.length).toBeGreaterThan(0);

    // Refresh: the stored access token goes bad; the SDK client refreshes on the 401 and carries on.
    const before = provider.stored!;
    provider.stored = { ...before, access_token: `${before.access_token.slice(0, -4)}AAAA` };
    const tokensIssued = s.crm.stats.tokensIssued;
    const again = (await client.callTool({ name: "list_related_lists", arguments: { module_api_name: "Accounts" } })) as CallToolResult;
    expect(again.isError, text(again)).toBeFalsy();
    expect(provider.stored!.access_token).not.toBe(before.access_token);
    // Our refresh refreshed at Zoho: one new Zoho token behind the new access token.
    expect(s.crm.stats.tokensIssued).toBe(tokensIssued + 1);
    await client.close();
  });

  it("our tokens reveal nothing without the secret; a Zoho token as the bearer is refused", async () => {
    const zohoTokensBefore = new Set(s.crm.issuedAccessTokens());
    const { access, refresh } = await rawSignIn(s.origin);
    const zohoToken = s.crm.issuedAccessTokens().find((t) => !zohoTokensBefore.has(t))!;
    expect(zohoToken).toBeTruthy();
    for (const token of [access, refresh]) {
      const parts = token.split(".");
      expect(parts).toHaveLength(5);
      expect(JSON.parse(Buffer.from(parts[0]!, "base64url").toString())).toEqual({ alg: "dir", enc: "A256GCM" });
      const decoded = parts.map((p) => Buffer.from(p, "base64url").toString("latin1")).join("");
      expect(decoded).not.toContain(zohoToken);
      expect(decoded).not.toContain("1000.");
      expect(decoded).not.toContain("127.0.0.1");
    }
    // Works as our token...
    expect((await mcpCall(s.mcpUrl, access)).status).toBe(200);
    // ...but the Zoho token behind it is not a token of this server.
    const refused = await mcpCall(s.mcpUrl, zohoToken);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/);
  });

  it("a tampered, an expired, and a refresh token as bearer are refused with invalid_token", async () => {
    const { access, refresh } = await rawSignIn(s.origin);
    const parts = access.split(".");
    const cipher = Buffer.from(parts[3]!, "base64url");
    cipher[0] = cipher[0]! ^ 1;
    const tampered = [parts[0], parts[1], parts[2], cipher.toString("base64url"), parts[4]].join(".");
    const sealer = new Sealer(s.secret, s.origin);
    const expired = await sealer.seal("access", { cid: "x", sid: "s", acc: s.crm.url, api: s.crm.url, zat: "z", zexp: Date.now() + 3_600_000 }, { ttlSeconds: -120, audience: `${s.origin}/mcp` });
    // Same secret, another audience: a token for another resource.
    const otherAudience = await sealer.seal("access", { cid: "x", sid: "s", acc: s.crm.url, api: s.crm.url, zat: "z", zexp: Date.now() + 3_600_000 }, { ttlSeconds: 600, audience: "https://elsewhere.example/mcp" });
    for (const bad of [tampered, expired, otherAudience, refresh, "garbage"]) {
      const response = await mcpCall(s.mcpUrl, bad);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  it("a wrong code_verifier, a reused code and plain PKCE are refused", async () => {
    const clientId = await register(s.origin);
    const { verifier, challenge } = pkce();
    const back = await signInWithBrowser(authorizeUrl(s.origin, clientId, challenge), { user: "ravi" });
    const code = back.searchParams.get("code")!;
    expect(back.searchParams.get("state")).toBe("st-123");
    expect(back.searchParams.get("iss")).toBe(s.origin);
    const wrong = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: pkce().verifier });
    expect(wrong).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const right = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier });
    expect(right.status).toBe(200);
    const reused = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier });
    expect(reused).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    // Another client cannot use the code either.
    const other = await register(s.origin);
    const stolen = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: other, code, code_verifier: verifier });
    expect(stolen).toMatchObject({ status: 400, body: { error: "invalid_grant" } });

    // Refused on our own page, never by a redirect no person chose (see oauth-hardening.test.ts).
    const plain = await fetch(authorizeUrl(s.origin, clientId, "x".repeat(43), { code_challenge_method: "plain" }), { redirect: "manual" });
    expect([plain.status, plain.headers.get("location")]).toEqual([400, null]);
  });

  it("a redirect_uri that was not registered gets no redirect; a loopback one may change its port only", async () => {
    const clientId = await register(s.origin);
    const { challenge } = pkce();
    for (const redirect of ["https://evil.example/callback", "http://127.0.0.1:53682/other", "http://localhost:53682/callback"]) {
      const response = await fetch(authorizeUrl(s.origin, clientId, challenge, { redirect_uri: redirect }), { redirect: "manual" });
      expect(response.status, redirect).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toContain("redirect_uri is not one this client registered");
    }
    const otherPort = await fetch(authorizeUrl(s.origin, clientId, challenge, { redirect_uri: "http://127.0.0.1:40000/callback" }), { redirect: "manual" });
    expect(otherPort.status).toBe(200);
    expect(otherPort.headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("Deny on the consent page, and Reject at Zoho, end at the client with access_denied", async () => {
    const clientId = await register(s.origin);
    const { challenge } = pkce();
    const denied = await signInWithBrowser(authorizeUrl(s.origin, clientId, challenge), { consent: "deny" });
    expect(denied.origin + denied.pathname).toBe("http://127.0.0.1:53682/callback");
    expect([denied.searchParams.get("error"), denied.searchParams.get("state")]).toEqual(["access_denied", "st-123"]);
    const rejected = await signInWithBrowser(authorizeUrl(s.origin, clientId, challenge), { zoho: "reject" });
    expect([rejected.searchParams.get("error"), rejected.searchParams.get("state"), rejected.searchParams.get("code")]).toEqual(["access_denied", "st-123", null]);
  });

  it("the consent page names the client, is safe to show, and only counts in the browser it was shown in", async () => {
    const clientId = await register(s.origin);
    const { challenge } = pkce();
    const victim = new Browser();
    const page = await victim.get(authorizeUrl(s.origin, clientId, challenge));
    const html = await page.text();
    expect(html).toContain("raw test client");
    expect(html).toContain("http://127.0.0.1:53682");
    expect(html).not.toMatch(/<script/i);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("content-security-policy")).not.toContain("script-src");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    // An attacker who got hold of the form (CSRF) posts it from another browser: refused.
    const form = formOf(html);
    const attacker = new Browser();
    const forged = await attacker.post(`${s.origin}/oauth/consent`, { ...form.fields, choice: "allow" });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("location")).toBeNull();
  });

  it("a forged accounts-server gets no request and the flow ends with access_denied", async () => {
    let hits = 0;
    const trap = createServer((_req, res) => {
      hits++;
      res.end("{}");
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    try {
      const clientId = await register(s.origin);
      const { challenge } = pkce();
      for (const forged of [trapUrl, "https://accounts.zoho.com.evil.example", `https://accounts.zoho.com@127.0.0.1:${(trap.address() as AddressInfo).port}`]) {
        const tokenRequests = s.crm.stats.tokenRequests;
        const back = await signInWithBrowser(authorizeUrl(s.origin, clientId, challenge), {
          tamperCallback: (url) => {
            url.searchParams.set("accounts-server", forged);
            return url;
          },
        });
        expect(back.origin + back.pathname).toBe("http://127.0.0.1:53682/callback");
        expect([back.searchParams.get("error"), back.searchParams.get("code")]).toEqual(["access_denied", null]);
        // Nothing was exchanged anywhere: not at the trap, not at the real accounts server.
        expect(s.crm.stats.tokenRequests).toBe(tokenRequests);
      }
      expect(hits).toBe(0);
    } finally {
      trap.close();
    }
  });

  it("revocation at /revoke revokes the Zoho refresh token: no refresh, and the access token stops working", async () => {
    const { clientId, access, refresh } = await rawSignIn(s.origin);
    const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_related_lists", arguments: { module_api_name: "Leads" } } };
    expect((await mcpCall(s.mcpUrl, access, call)).status).toBe(200);
    const revocations = s.crm.stats.revocations;
    const revoked = await fetch(`${s.origin}/revoke`, { method: "POST", body: new URLSearchParams({ client_id: clientId, token: refresh, token_type_hint: "refresh_token" }) });
    expect(revoked.status).toBe(200);
    expect(s.crm.stats.revocations).toBe(revocations + 1);
    const refreshed = await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: refresh });
    expect(refreshed).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    // The sign-in's access tokens are refused at once on this replica, before any Zoho request
    // (elsewhere Zoho refuses them: it ended the access tokens of that refresh token too).
    const crmRequests = s.crm.stats.crmRequests;
    const after = await mcpCall(s.mcpUrl, access, call);
    expect(after.status).toBe(401);
    expect(s.crm.stats.crmRequests).toBe(crmRequests);
    // Revoking an unknown token is fine (RFC 7009).
    const unknown = await fetch(`${s.origin}/revoke`, { method: "POST", body: new URLSearchParams({ client_id: clientId, token: "nope" }) });
    expect(unknown.status).toBe(200);
  });
});

describe("the callback's other ends", () => {
  let s: SignInServer;
  beforeAll(async () => {
    s = await startSignInServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it("a code Zoho refuses (invalid_code) ends at the client with access_denied naming it, never a stack trace", async () => {
    const clientId = await register(s.origin);
    const back = await signInWithBrowser(authorizeUrl(s.origin, clientId, pkce().challenge), {
      tamperCallback: (url) => {
        url.searchParams.set("code", "1000.not-a-code");
        return url;
      },
    });
    expect(back.origin + back.pathname).toBe("http://127.0.0.1:53682/callback");
    expect([back.searchParams.get("error"), back.searchParams.get("error_description"), back.searchParams.get("state")]).toEqual(["access_denied", "Zoho refused the sign-in (invalid_code)", "st-123"]);
  });

  it("Zoho's redirect is only taken in the browser that gave consent (login CSRF)", async () => {
    const clientId = await register(s.origin);
    let callback: URL | undefined;
    await signInWithBrowser(authorizeUrl(s.origin, clientId, pkce().challenge), {
      tamperCallback: (url) => {
        callback = new URL(url);
        // The victim's browser never follows it: the flow stops here.
        url.searchParams.set("state", "cut");
        return url;
      },
    }).catch(() => undefined);
    const tokenRequests = s.crm.stats.tokenRequests;
    const elsewhere = await new Browser().get(callback!.href);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.get("location")).toBeNull();
    expect(s.crm.stats.tokenRequests).toBe(tokenRequests);
  });

  it("revoking an access token refuses it here at once and revokes the Zoho access token inside it for every replica", async () => {
    const { clientId, access } = await rawSignIn(s.origin);
    const call = (module: string) => ({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "list_related_lists", arguments: { module_api_name: module } } });
    expect(await (await mcpCall(s.mcpUrl, access, call("Deals"))).text()).not.toContain("INVALID_TOKEN");
    const revocations = s.crm.stats.revocations;
    const revoked = await fetch(`${s.origin}/revoke`, { method: "POST", body: new URLSearchParams({ client_id: clientId, token: access, token_type_hint: "access_token" }) });
    expect(revoked.status).toBe(200);
    expect(s.crm.stats.revocations).toBe(revocations + 1);
    expect((await mcpCall(s.mcpUrl, access, call("Contacts"))).status).toBe(401);
    // A replica that never saw the revocation still opens the token, but Zoho refuses what is inside.
    const other = await startSignInServer({ secret: s.secret, publicUrl: s.origin, crm: s.crm });
    try {
      const atOther = await mcpCall(other.mcpUrl, access, call("Leads"));
      expect(atOther.status).toBe(200);
      expect(await atOther.text()).toContain("INVALID_TOKEN");
      expect((await mcpCall(other.mcpUrl, access, call("Leads"))).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe("two replicas and two users", () => {
  it("a replica with the same secret and MCP_PUBLIC_URL accepts the other's tokens; another secret does not", async () => {
    const secret = new Uint8Array(randomBytes(32));
    const a = await startSignInServer({ secret });
    const b = await startSignInServer({ secret, publicUrl: a.origin, crm: a.crm });
    const c = await startSignInServer({ publicUrl: a.origin, crm: a.crm });
    try {
      const { clientId, access, refresh } = await rawSignIn(a.origin);
      const call = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "get_related_records", arguments: { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes", fields: ["Note_Title"] } } };
      const atB = await mcpCall(b.mcpUrl, access, call);
      expect(atB.status).toBe(200);
      expect(await atB.text()).toContain(DEMO.leadNoteIds[0]);
      // B refreshes a token A issued, for a client A registered.
      const refreshed = await tokenRequest(b.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: refresh });
      expect(refreshed.status).toBe(200);
      expect((await mcpCall(a.mcpUrl, String(refreshed.body.access_token))).status).toBe(200);
      expect((await mcpCall(c.mcpUrl, access)).status).toBe(401);
      expect((await tokenRequest(c.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: refresh })).body).toMatchObject({ error: "invalid_client" });
    } finally {
      await c.close();
      await b.close();
      await a.close();
    }
  });

  it("two users in parallel: the second never sees what only the first may see, though the first warmed every cache", async () => {
    const s = await startSignInServer();
    try {
      const [p, r] = await Promise.all([connectSignedIn(s.mcpUrl, "patricia"), connectSignedIn(s.mcpUrl, "ravi", new TestOAuthProvider("http://127.0.0.1:53683/callback", "second client"))]);
      const call = async (c: typeof p, name: string, args: Record<string, unknown>) => (await c.client.callTool({ name, arguments: args })) as CallToolResult;
      const invoices = { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Invoices", fields: ["Subject"] };
      const campaignLeads = { module_api_name: "Campaigns", record_id: DEMO.campaignId, related_list_api_name: "Leads", fields: ["Full_Name"], converted: "both" };
      // Patricia first: related-list metadata, field metadata (default fields), module list, records.
      const warm = [
        await call(p, "list_related_lists", { module_api_name: "Accounts" }),
        await call(p, "get_related_records", invoices),
        await call(p, "get_related_records", { ...invoices, fields: undefined }),
        await call(p, "get_related_records", campaignLeads),
        await call(p, "get_related_overview", { module_api_name: "Accounts", record_id: DEMO.accountId }),
      ];
      for (const result of warm) expect(result.isError, text(result)).toBeFalsy();
      expect(text(warm[0]!)).toContain("Invoices");
      expect(text(warm[3]!)).toContain("Hannah Ortiz");
      const restricted = await p.client.readResource({ uri: `zohocrm://records/Leads/${DEMO.restrictedLeadId}` });
      expect(JSON.stringify(restricted)).toContain("Hannah");

      // Ravi, in parallel with Patricia asking the same again.
      const [rLists, rInvoices, rLeads, rOverview, pAgain] = await Promise.all([
        call(r, "list_related_lists", { module_api_name: "Accounts" }),
        call(r, "get_related_records", invoices),
        call(r, "get_related_records", campaignLeads),
        call(r, "get_related_overview", { module_api_name: "Accounts", record_id: DEMO.accountId }),
        call(p, "get_related_records", invoices),
      ]);
      expect(text(rLists)).not.toContain("Invoices");
      expect(rInvoices.isError).toBe(true);
      expect(text(rInvoices)).not.toContain("INV-2026");
      expect(rLeads.isError, text(rLeads)).toBeFalsy();
      expect(text(rLeads)).not.toContain("Hannah");
      expect((rLeads.structuredContent as { count: number }).count).toBe(DEMO.campaignLeadCount - 1);
      expect(text(rOverview)).not.toContain("INV-2026");
      expect(text(pAgain)).toContain("INV-2026-0042");
      await expect(r.client.readResource({ uri: `zohocrm://records/Leads/${DEMO.restrictedLeadId}` })).rejects.toThrow(/NO_PERMISSION/);
      await Promise.all([p.client.close(), r.client.close()]);
    } finally {
      await s.close();
    }
  });
});

describe("configuration", () => {
  it("refuses a short or non-base64 MCP_OAUTH_SECRET and an http MCP_PUBLIC_URL off loopback, naming the variable", async () => {
    const { loadSignInSettings } = await import("../src/oauth/http.js");
    expect(() => loadSignInSettings({ MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: Buffer.alloc(31).toString("base64") }, { demo: false })).toThrow(/^MCP_OAUTH_SECRET must be base64 that decodes to at least 32 bytes/);
    expect(() => loadSignInSettings({ MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: "not base64 at all!!" + "x".repeat(40) }, { demo: false })).toThrow(/^MCP_OAUTH_SECRET/);
    expect(() => loadSignInSettings({ MCP_PUBLIC_URL: "http://crm.example.com", MCP_OAUTH_SECRET: Buffer.alloc(32).toString("base64") }, { demo: false })).toThrow(/^MCP_PUBLIC_URL must use https/);
    expect(() => loadSignInSettings({ MCP_PUBLIC_URL: "https://crm.example.com/mcp", MCP_OAUTH_SECRET: Buffer.alloc(32).toString("base64") }, { demo: false })).toThrow(/^MCP_PUBLIC_URL must be the origin/);
    expect(() => loadSignInSettings({ MCP_OAUTH_SECRET: Buffer.alloc(32).toString("base64") }, { demo: false })).toThrow(/^MCP_PUBLIC_URL is missing/);
    expect(loadSignInSettings({ MCP_PUBLIC_URL: "https://crm.example.com/", MCP_OAUTH_SECRET: randomBytes(32).toString("base64") }, { demo: false }).publicUrl).toBe("https://crm.example.com");
    expect(CANARY.clientSecret).toBeTruthy();
  });
});
