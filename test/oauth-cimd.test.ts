import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withRequester } from "../src/oauth/client-documents.js";
import { SealedClientsStore, fetchMetadataDocument, isForbiddenAddress } from "../src/oauth/clients.js";
import { Sealer } from "../src/oauth/seal.js";
import { signInWithBrowser, startSignInServer, type SignInServer } from "./oauth-helpers.js";
import { REDIRECT, authorizeUrl, mcpCall, pkce, registerClient, tokenRequest } from "./oauth-raw.js";

/** Client ID Metadata Documents: the address guard, the fetch limits, and the whole flow. */

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("which addresses a metadata fetch may reach", () => {
  const table: Array<[string, boolean]> = [
    // Public IPv4: allowed (every one was refused when IPv4 shared a list with ::ffff:0:0/96).
    ["8.8.8.8", false], ["1.1.1.1", false], ["151.101.1.69", false], ["100.63.255.255", false], ["172.32.0.1", false],
    // Private, loopback, link-local, CGNAT, reserved IPv4.
    ["127.0.0.1", true], ["10.1.2.3", true], ["172.16.0.1", true], ["192.168.1.1", true], ["169.254.169.254", true],
    ["100.64.0.1", true], ["0.0.0.0", true], ["224.0.0.1", true], ["255.255.255.255", true], ["192.0.2.10", true], ["198.18.0.1", true],
    // Public IPv6: allowed.
    ["2606:4700:4700::1111", false], ["2a00:1450:4001:82a::200e", false],
    // Loopback, unspecified, unique-local, link-local, site-local, multicast, documentation IPv6.
    ["::1", true], ["::", true], ["fd12:3456::1", true], ["fe80::1", true], ["fe80::1%eth0", true], ["fec0::1", true], ["ff02::1", true], ["2001:db8::1", true],
    // IPv4 inside IPv6: judged by the IPv4 address.
    ["::ffff:127.0.0.1", true], ["::ffff:7f00:1", true], ["::ffff:8.8.8.8", false], ["::ffff:169.254.169.254", true],
    ["::127.0.0.1", true], ["::10.0.0.1", true], ["::ffff:0:10.0.0.1", true],
    ["64:ff9b::10.0.0.1", true], ["64:ff9b::a9fe:a9fe", true], ["64:ff9b::8.8.8.8", false], ["64:ff9b:1::8.8.8.8", true],
    ["2002:7f00:1::", true], ["2002:c0a8:101::1", true], ["2002:808:808::1", false],
    // Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted as 80ff:fffe) and a public client 8.8.8.8 (f7f7:f7f7).
    ["2001:0:4136:e378:8000:63bf:80ff:fffe", true], ["2001:0:4136:e378:8000:63bf:f7f7:f7f7", false], ["2001:0:a00:1:8000:63bf:f7f7:f7f7", true],
    ["not an address", true],
  ];
  for (const [address, forbidden] of table) {
    it(`${address} is ${forbidden ? "refused" : "allowed"}`, () => {
      expect(isForbiddenAddress(address)).toBe(forbidden);
    });
  }
});

describe("metadata document fetches are bounded", () => {
  it("a server that trickles bytes for ever is cut off by the overall deadline", async () => {
    let closed = false;
    const { server, origin } = await listen((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => res.write(" "), 20);
      req.socket.on("close", () => {
        closed = true;
        clearInterval(timer);
      });
    });
    try {
      // Never idle for 5 s, so only the deadline can end it.
      await expect(fetchMetadataDocument(`${origin}/client.json`, { allowLoopbackMetadata: true, metadataTimeoutMs: 5000, metadataDeadlineMs: 300 })).rejects.toThrow(/deadline/);
      await expect.poll(() => closed).toBe(true);
    } finally {
      server.close();
    }
  });

  it("fair shares: per requesting address, per document host and in all; past a share refused at once, without a request; a failure is remembered", async () => {
    let open = 0;
    let most = 0;
    const seen: string[] = [];
    const waiting: Array<() => void> = [];
    const { server, origin } = await listen((req, res) => {
      open++;
      seen.push(req.url ?? "");
      most = Math.max(most, open);
      waiting.push(() => {
        open--;
        res.writeHead(404).end();
      });
    });
    try {
      const store = new SealedClientsStore(new Sealer(new Uint8Array(randomBytes(32)), "http://127.0.0.1"), { allowLoopbackMetadata: true, metadataConcurrency: 5, metadataPerRequester: 2, metadataPerHost: 3 });
      const from = (address: string, path: string) => withRequester(address, () => store.getClient(`${origin}/${path}`));
      // One address: 2 fetches, the third refused at once. A second address: 1 more, then the host's 3 are used.
      const lookups = [from("198.51.100.1", "a1.json"), from("198.51.100.1", "a2.json"), from("198.51.100.1", "a3.json"), from("203.0.113.2", "b1.json"), from("203.0.113.3", "c1.json")];
      expect(await lookups[2]).toBeUndefined();
      expect(await lookups[4]).toBeUndefined();
      await expect.poll(() => seen.length).toBe(3);
      // The same URL asked again while it is fetched shares that fetch.
      const again = from("203.0.113.9", "a1.json");
      while (waiting.length > 0) waiting.shift()!();
      expect(await Promise.all([...lookups, again])).toEqual(Array(6).fill(undefined));
      expect([most, seen.sort()]).toEqual([3, ["/a1.json", "/a2.json", "/b1.json"]]);
      expect(store.documents.refusedForShare).toBe(2);
      // A failed document is refused from memory for five minutes, whoever asks.
      expect(await from("192.0.2.50", "a1.json")).toBeUndefined();
      expect(seen).toHaveLength(3);
    } finally {
      server.close();
    }
  });
});

describe("a metadata-document client signs in end to end", () => {
  let s: SignInServer;
  let doc: { server: Server; origin: string };
  let clientId: string;
  beforeAll(async () => {
    s = await startSignInServer({ settings: { clients: { allowLoopbackMetadata: true } } });
    doc = await listen((req, res) => {
      const self = `${doc.origin}${req.url}`;
      const body = req.url === "/impostor.json" ? { client_id: "https://claude.ai/oauth/client.json", client_name: "Claude", redirect_uris: [REDIRECT] } : { client_id: self, client_name: "Doc Client", redirect_uris: [REDIRECT] };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    clientId = `${doc.origin}/oauth/client.json`;
  });
  afterAll(async () => {
    doc.server.close();
    await s.close();
  });

  it("consent names the client with the host that serves its document; code, token and tool call as a public client", async () => {
    const { verifier, challenge } = pkce();
    const page = await fetch(authorizeUrl(s.origin, clientId, challenge));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<strong>Doc Client (127.0.0.1:${new URL(doc.origin).port})</strong>`);
    const back = await signInWithBrowser(authorizeUrl(s.origin, clientId, challenge), { user: "ravi" });
    const code = back.searchParams.get("code")!;
    expect(code).toBeTruthy();
    const tokens = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect((await mcpCall(s.mcpUrl, String(tokens.body.access_token))).status).toBe(200);
  });

  it("a document that names another client_id is no client", async () => {
    const response = await fetch(authorizeUrl(s.origin, `${doc.origin}/impostor.json`, pkce().challenge), { redirect: "manual" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_client" });
  });
});

describe("/register keeps a client_id usable", () => {
  let s: SignInServer;
  beforeAll(async () => {
    s = await startSignInServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it("refuses oversized metadata with invalid_client_metadata naming the field, instead of a 201 without client_id", async () => {
    const long = `https://app.example.com/${"a".repeat(20_000)}`;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ client_uri: long }, /^client_uri must be at most 2000 characters/],
      [{ logo_uri: long }, /^logo_uri must be at most 2000 characters/],
      [{ redirect_uris: [long] }, /^redirect_uris: each must be at most 2000/],
      [{ redirect_uris: Array.from({ length: 10 }, (_, i) => `https://app.example.com/${i}/${"b".repeat(1900)}`) }, /^redirect_uris, client_name and client_uri together must be at most/],
      [{ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example.com/${i}`) }, /^redirect_uris must hold 1 to 10/],
    ];
    for (const [metadata, message] of cases) {
      const response = await registerClient(s.origin, metadata);
      const body = (await response.json()) as { error: string; error_description: string; client_id?: string };
      expect(response.status, JSON.stringify(metadata).slice(0, 80)).toBe(400);
      expect(body.error).toBe("invalid_client_metadata");
      expect(body.error_description).toMatch(message);
      expect(body.client_id).toBeUndefined();
    }
    // Just inside the limits: registered, and the client_id opens again.
    const fits = await registerClient(s.origin, { client_uri: `https://app.example.com/${"c".repeat(1900)}`, redirect_uris: [`https://app.example.com/${"d".repeat(1900)}`] });
    expect(fits.status).toBe(201);
    const { client_id } = (await fits.json()) as { client_id: string };
    const consent = await fetch(authorizeUrl(s.origin, client_id, pkce().challenge, { redirect_uri: `https://app.example.com/${"d".repeat(1900)}` }));
    expect(consent.status).toBe(200);
  });
});
