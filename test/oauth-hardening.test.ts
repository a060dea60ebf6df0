import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSignInServer, type SignInServer } from "./oauth-helpers.js";
import { REDIRECT, authorizeUrl, mcpCall, pkce, rawCode, rawSignIn, register, registerClient, tokenRequest } from "./oauth-raw.js";

/**
 * The sign-in endpoints as an attacker drives them: each case here was reproduced against the
 * first version of --http --oauth, and each assertion pins the answer that closes it.
 */

describe("/authorize never redirects a request no person chose", () => {
  let s: SignInServer;
  let attackerClient: string;
  beforeAll(async () => {
    s = await startSignInServer();
    // Anyone may register a client whose redirect URI is their own site.
    attackerClient = await register(s.origin, { redirect_uris: ["https://evil.example/cb"], client_name: "Helpful Tool" });
  });
  afterAll(async () => {
    await s.close();
  });

  const { challenge } = pkce();
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ["plain PKCE", { code_challenge_method: "plain" }, /code_challenge_method must be S256/],
    ["implicit flow", { response_type: "token" }, /response_type must be code/],
    ["a foreign resource", { resource: "https://other.example/mcp" }, /resource must be http:\/\/127\.0\.0\.1:\d+\/mcp/],
    ["a resource that is no URL", { resource: "not a url" }, /resource must be/],
    ["a short challenge", { code_challenge: "abc" }, /code_challenge must be the 43-character/],
    ["no challenge method", { code_challenge_method: "" }, /code_challenge_method must be S256/],
  ];
  for (const [what, extra, message] of cases) {
    it(`${what}: our error page (400), no Location`, async () => {
      const response = await fetch(authorizeUrl(s.origin, attackerClient, challenge, { redirect_uri: "https://evil.example/cb", ...extra }), { redirect: "manual" });
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await response.text()).toMatch(message);
    });
  }

  it("a parameter given twice, and the same checks on POST", async () => {
    const twice = await fetch(`${authorizeUrl(s.origin, attackerClient, challenge, { redirect_uri: "https://evil.example/cb" })}&state=again`, { redirect: "manual" });
    expect([twice.status, twice.headers.get("location")]).toEqual([400, null]);
    expect(await twice.text()).toContain("state must be given once");
    const posted = await fetch(`${s.origin}/authorize`, {
      method: "POST",
      redirect: "manual",
      body: new URLSearchParams(new URL(authorizeUrl(s.origin, attackerClient, challenge, { redirect_uri: "https://evil.example/cb", code_challenge_method: "plain" })).searchParams),
    });
    expect([posted.status, posted.headers.get("location")]).toEqual([400, null]);
  });

  it("a valid request still gets the consent page, which shows no redirect", async () => {
    const response = await fetch(authorizeUrl(s.origin, attackerClient, challenge, { redirect_uri: "https://evil.example/cb" }), { redirect: "manual" });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Helpful Tool");
  });

  it("advertises the iss parameter it sends (RFC 9207)", async () => {
    const as = (await (await fetch(`${s.origin}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
  });
});

describe("/token and /register check what the SDK leaves to us", () => {
  let s: SignInServer;
  beforeAll(async () => {
    s = await startSignInServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it("redirect_uri at /token must equal the authorization request's exactly: another loopback port is refused", async () => {
    const { clientId, code, verifier } = await rawCode(s.origin);
    const otherPort = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: "http://127.0.0.1:40000/callback" });
    expect(otherPort).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "redirect_uri does not match the authorization request" } });
    // The refused attempt did not spend the code.
    const right = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT });
    expect(right.status).toBe(200);
  });

  it("a code_verifier outside RFC 7636 (43-128 of A-Z a-z 0-9 - . _ ~) is refused even when its hash matches", async () => {
    for (const verifier of ["short", `${"a".repeat(42)}!`, "a".repeat(129)]) {
      const { clientId, code } = await rawCode(s.origin, { verifier });
      const response = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier });
      expect(response, verifier).toMatchObject({ status: 400, body: { error: "invalid_request" } });
      expect(String(response.body.error_description)).toContain("code_verifier must be 43 to 128 characters");
    }
  });

  it("redirect URIs: an allowlist of https, loopback http, reverse-domain app schemes and Cursor's", async () => {
    const refused = ["ws://127.0.0.1/cb", "wss://example.com/cb", "view-source:https://example.com/", "filesystem:https://example.com/temporary/", "myapp:/callback", "http://example.com/cb", "http://127.0.0.1.nip.io/cb", "https://user:pw@example.com/cb", "javascript:alert(1)"];
    for (const uri of refused) {
      const response = await registerClient(s.origin, { redirect_uris: [uri] });
      expect(response.status, uri).toBe(400);
      expect(await response.json(), uri).toMatchObject({ error: "invalid_client_metadata" });
    }
    for (const uri of ["https://app.example.com/cb", "http://localhost:8080/cb", "http://[::1]/cb", "com.example.app:/oauth2redirect", "cursor.anysphere://callback", "cursor://anysphere.cursor-mcp/oauth/callback"]) {
      expect((await registerClient(s.origin, { redirect_uris: [uri] })).status, uri).toBe(201);
    }
  });
});

describe("refresh tokens rotate; a replayed one ends the sign-in", () => {
  let s: SignInServer;
  beforeAll(async () => {
    // No grace: a token is replayed the moment it has been used (the grace has its own test below).
    s = await startSignInServer({ settings: { refreshGraceMs: 0 } });
  });
  afterAll(async () => {
    await s.close();
  });

  it("the second use of a refresh token revokes the sign-in here and at Zoho: the newer tokens stop too", async () => {
    const { clientId, refresh: first } = await rawSignIn(s.origin);
    const rotated = await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: first });
    expect(rotated.status).toBe(200);
    const second = String(rotated.body.refresh_token);
    const access = String(rotated.body.access_token);
    expect(second).not.toBe(first);
    expect((await mcpCall(s.mcpUrl, access)).status).toBe(200);

    const revocations = s.crm.stats.revocations;
    const replay = await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: first });
    expect(replay).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "refresh token already used: the sign-in is revoked, sign in again" } });
    // The Zoho refresh token behind the sign-in is revoked, so no replica can refresh it again.
    expect(s.crm.stats.revocations).toBe(revocations + 1);
    expect(await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: second })).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const crmRequests = s.crm.stats.crmRequests;
    const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_related_lists", arguments: { module_api_name: "Leads" } } };
    expect((await mcpCall(s.mcpUrl, access, call)).status).toBe(401);
    expect(s.crm.stats.crmRequests).toBe(crmRequests);
  });

  it("each refresh token in a chain is good once: 1 -> 2 -> 3, and 2 again is a replay", async () => {
    const { clientId, refresh: r1 } = await rawSignIn(s.origin, "ravi");
    const r2 = String((await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: r1 })).body.refresh_token);
    const step = await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: r2 });
    expect(step.status).toBe(200);
    expect((await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: r2 })).body).toMatchObject({ error: "invalid_grant" });
    expect((await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: String(step.body.refresh_token) })).body).toMatchObject({ error: "invalid_grant" });
  });

  it("a second use of an authorization code revokes what the first use issued (RFC 6749 4.1.2)", async () => {
    const { clientId, code, verifier } = await rawCode(s.origin);
    const first = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier });
    expect(first.status).toBe(200);
    expect((await mcpCall(s.mcpUrl, String(first.body.access_token))).status).toBe(200);
    const again = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier });
    expect(again).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect((await mcpCall(s.mcpUrl, String(first.body.access_token))).status).toBe(401);
    expect((await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: String(first.body.refresh_token) })).body).toMatchObject({ error: "invalid_grant" });
  });

  it("/revoke of an access token: refused here at once, before any Zoho request; the sign-in's refresh still works", async () => {
    const { clientId, access, refresh } = await rawSignIn(s.origin);
    const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_related_lists", arguments: { module_api_name: "Leads" } } };
    expect((await mcpCall(s.mcpUrl, access, call)).status).toBe(200);
    const revoked = await fetch(`${s.origin}/revoke`, { method: "POST", body: new URLSearchParams({ client_id: clientId, token: access, token_type_hint: "access_token" }) });
    expect(revoked.status).toBe(200);
    const crmRequests = s.crm.stats.crmRequests;
    const after = await mcpCall(s.mcpUrl, access, call);
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(s.crm.stats.crmRequests).toBe(crmRequests);
    // Only that access token: the client refreshes and carries on.
    const refreshed = await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: refresh });
    expect(refreshed.status).toBe(200);
    expect((await mcpCall(s.mcpUrl, String(refreshed.body.access_token), call)).status).toBe(200);
  });
});

describe("parallel refreshes of one client", () => {
  it("the token just replaced is taken again for a few seconds: two requests that failed together may both refresh", async () => {
    const s = await startSignInServer();
    try {
      const { clientId, refresh } = await rawSignIn(s.origin);
      const revocations = s.crm.stats.revocations;
      const both = await Promise.all([1, 2].map(() => tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: refresh })));
      expect(both.map((r) => r.status)).toEqual([200, 200]);
      for (const r of both) expect((await mcpCall(s.mcpUrl, String(r.body.access_token))).status).toBe(200);
      expect(s.crm.stats.revocations).toBe(revocations);
      // The sign-in goes on from either answer.
      expect((await tokenRequest(s.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: String(both[1]!.body.refresh_token) })).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe("the ledger stays bounded", () => {
  it("keeps at most maxEntries per kind, dropping the oldest; revocations end when the token would have", async () => {
    const { MemoryLedger } = await import("../src/oauth/ledger.js");
    const ledger = new MemoryLedger(0, 2);
    await ledger.revokeSignIn("a", Date.now() + 60_000);
    await ledger.revokeSignIn("b", Date.now() + 60_000);
    await ledger.revokeSignIn("c", Date.now() + 60_000);
    await ledger.revokeAccessToken("j", Date.now() - 1);
    expect(await Promise.all(["a", "b", "c"].map((sid) => ledger.isRevoked(sid)))).toEqual([false, true, true]);
    expect(await ledger.isRevoked("x", "j")).toBe(false);
    await ledger.issued("s", 3);
    // No grace here (0 ms): an older generation is a replay; a newer one is taken, and then only the one after it.
    expect(await ledger.rotate("s", 2)).toBe("replayed");
    expect(await ledger.rotate("s", 4)).toBe("current");
    expect(await ledger.rotate("s", 4)).toBe("replayed");
    expect(await ledger.rotate("s", 5)).toBe("current");
    expect(await ledger.redeemCode("code", Date.now() + 60_000)).toBe(true);
    expect(await ledger.redeemCode("code", Date.now() + 60_000)).toBe(false);
  });
});
