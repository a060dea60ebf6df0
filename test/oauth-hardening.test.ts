import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSignInServer, type SignInServer } from "./oauth-helpers.js";
import { REDIRECT, authorizeUrl, pkce, rawCode, register, registerClient, tokenRequest } from "./oauth-raw.js";

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

  it("redirect URIs: an allowlist of https, loopback http and reverse-domain app schemes", async () => {
    const refused = ["ws://127.0.0.1/cb", "wss://example.com/cb", "view-source:https://example.com/", "filesystem:https://example.com/temporary/", "myapp:/callback", "http://example.com/cb", "http://127.0.0.1.nip.io/cb", "https://user:pw@example.com/cb", "javascript:alert(1)"];
    for (const uri of refused) {
      const response = await registerClient(s.origin, { redirect_uris: [uri] });
      expect(response.status, uri).toBe(400);
      expect(await response.json(), uri).toMatchObject({ error: "invalid_client_metadata" });
    }
    for (const uri of ["https://app.example.com/cb", "http://localhost:8080/cb", "http://[::1]/cb", "com.example.app:/oauth2redirect", "cursor.anysphere://callback"]) {
      expect((await registerClient(s.origin, { redirect_uris: [uri] })).status, uri).toBe(201);
    }
  });
});
