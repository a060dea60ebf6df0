// Client ID Metadata Documents: a client_id that is an https URL names the client's own metadata,
// which the server fetches with SSRF guards (https only, public addresses only, no redirects, size
// and time limits). Tests serve documents from 127.0.0.1 over http, which only a test setting allows.

import { createServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isForbiddenAddress } from "../src/oauth/clients.js";
import { startSignInServer, signInWithBrowser, type SignInServer } from "./oauth-helpers.js";
import { REDIRECT, authorizeUrl, pkce, tokenRequest } from "./oauth-raw.js";

/** Serves documents by path; counts every request. */
async function documentServer(docs: Record<string, (base: string) => { status?: number; body: string; location?: string }>): Promise<{ base: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  let base = "";
  const server: Server = createServer((req, res) => {
    hits++;
    const doc = docs[req.url ?? ""]?.(base);
    if (!doc) return void res.writeHead(404).end();
    res.writeHead(doc.status ?? 200, { "content-type": "application/json", ...(doc.location ? { location: doc.location } : {}) }).end(doc.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, hits: () => hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const doc = (clientId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ client_id: clientId, client_name: "Metadata Client", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none", ...extra });

describe("Client ID Metadata Documents", () => {
  let s: SignInServer;
  let docs: Awaited<ReturnType<typeof documentServer>>;
  beforeAll(async () => {
    docs = await documentServer({
      "/client.json": (base) => ({ body: doc(`${base}/client.json`) }),
      "/someone-else.json": () => ({ body: doc("https://other.example/client.json") }),
      "/huge.json": (base) => ({ body: doc(`${base}/huge.json`, { padding: "x".repeat(10_000) }) }),
      "/moved.json": (base) => ({ status: 302, body: "", location: `${base}/client.json` }),
      "/bad-redirect.json": (base) => ({ body: doc(`${base}/bad-redirect.json`, { redirect_uris: ["http://evil.example/cb"] }) }),
    });
    s = await startSignInServer({ settings: { clients: { allowLoopbackMetadata: true } } });
  });
  afterAll(async () => {
    await s.close();
    await docs.close();
  });

  it("a client named by its document signs in, is shown with the document's host, and gets tokens", async () => {
    const clientId = `${docs.base}/client.json`;
    const { verifier, challenge } = pkce();
    const consent = await fetch(authorizeUrl(s.origin, clientId, challenge), { redirect: "manual" });
    expect(consent.status).toBe(200);
    const html = await consent.text();
    expect(html).toContain("Metadata Client");
    expect(html).toContain(new URL(docs.base).host);
    const back = await signInWithBrowser(authorizeUrl(s.origin, clientId, challenge), { user: "ravi" });
    const code = back.searchParams.get("code")!;
    const tokens = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(tokens.body.token_type).toBe("Bearer");
  });

  it.each([
    ["a document naming another client_id", "/someone-else.json"],
    ["a document over 5 KB", "/huge.json"],
    ["a redirect instead of the document", "/moved.json"],
    ["a document whose redirect URI is plain http off loopback", "/bad-redirect.json"],
    ["no document at all", "/missing.json"],
  ])("%s: not a client (400, no redirect)", async (_label, path) => {
    const response = await fetch(authorizeUrl(s.origin, `${docs.base}${path}`, pkce().challenge), { redirect: "manual" });
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });

  it("outside tests: http, loopback and private addresses are never fetched", async () => {
    const strict = await startSignInServer({ crm: s.crm });
    // A TCP listener that counts connections: https to localhost would reach it if the guard failed.
    let connections = 0;
    const trap = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    const port = (trap.address() as AddressInfo).port;
    try {
      const before = docs.hits();
      for (const clientId of [`${docs.base}/client.json`, `https://localhost:${port}/client.json`, `https://127.0.0.1:${port}/client.json`, `https://[::1]:${port}/client.json`, "https://169.254.169.254/latest/meta-data"]) {
        const response = await fetch(authorizeUrl(strict.origin, clientId, pkce().challenge), { redirect: "manual" });
        expect(response.status, clientId).toBe(400);
      }
      expect(docs.hits()).toBe(before);
      expect(connections).toBe(0);
    } finally {
      trap.close();
      await strict.close();
    }
  });

  it("the address guard refuses loopback, private, link-local, CGNAT and mapped addresses, and allows public ones", () => {
    for (const address of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "224.0.0.1"]) {
      expect(isForbiddenAddress(address), address).toBe(true);
    }
    for (const address of ["8.8.8.8", "140.82.112.3", "::ffff:8.8.8.8", "2606:4700:4700::1111"]) expect(isForbiddenAddress(address), address).toBe(false);
  });
});
