import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSignInServer, type SignInServer } from "./oauth-helpers.js";
import { REDIRECT, authorizeUrl, pkce, rawCode, tokenRequest } from "./oauth-raw.js";

/**
 * Finding 1 of the second review: unauthenticated, one address could stop sign-in and refresh for
 * every metadata-document client, with unique slow client_id URLs that kept the fetch queue full
 * and unique failing ones that emptied the whole cache (500 of them). Here one address floods
 * /authorize and /token with both, on loopback, while a known client and a newcomer sign in.
 */

/** Documents on 127.0.0.1 (the store's loopback test option): two good clients, slow and failing URLs. */
interface DocServer {
  origin: string;
  server: Server;
  slowOpen: number;
  slowMost: number;
  slowSeen: number;
  failSeen: number;
}

async function docServer(): Promise<DocServer> {
  const doc: DocServer = { origin: "", server: createServer(), slowOpen: 0, slowMost: 0, slowSeen: 0, failSeen: 0 };
  doc.server.on("request", (req, res) => {
    const path = req.url ?? "/";
    if (path === "/good.json" || path === "/newcomer.json") {
      const body = { client_id: `http://${req.headers.host}${path}`, client_name: path === "/good.json" ? "Known Client" : "Newcomer", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" };
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    }
    if (path.startsWith("/slow/")) {
      // Never answers: the fetch's deadline ends it.
      doc.slowSeen++;
      doc.slowMost = Math.max(doc.slowMost, ++doc.slowOpen);
      req.socket.once("close", () => doc.slowOpen--);
      return;
    }
    doc.failSeen++;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => doc.server.listen(0, "127.0.0.1", resolve));
  doc.origin = `http://127.0.0.1:${(doc.server.address() as AddressInfo).port}`;
  return doc;
}

const FLOODER = "198.51.100.66";

/**
 * The attacker, in a process of its own (as it would be: its requests cost our server, not our
 * test's event loop): `workers` loops sending unique client_ids of `kind` to /authorize and /token
 * from one address, each pausing `pauseMs` between requests, until `max` requests or `seconds`
 * have gone, or it is stopped.
 */
const FLOOD_SCRIPT = `
const [target, docs, kind, workers, max, seconds, from, pauseMs] = process.argv.slice(1);
let sent = 0;
let stopped = false;
const end = Date.now() + Number(seconds) * 1000;
process.on("SIGTERM", () => { stopped = true; });
const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
async function one(n) {
  const clientId = docs + "/" + kind + "/" + n + "-" + Math.random().toString(36).slice(2) + ".json";
  const headers = { "x-forwarded-for": from };
  const url = new URL(target + "/authorize");
  url.search = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: "${REDIRECT}", code_challenge: challenge, code_challenge_method: "S256" });
  const response = n % 2 === 0
    ? await fetch(url, { redirect: "manual", headers })
    : await fetch(target + "/token", { method: "POST", headers, body: new URLSearchParams({ grant_type: "refresh_token", client_id: clientId, refresh_token: "x" }) });
  await response.arrayBuffer();
}
await Promise.all(Array.from({ length: Number(workers) }, async () => {
  while (!stopped && sent < Number(max) && Date.now() < end) {
    await one(sent++).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, Number(pauseMs)));
  }
}));
process.stdout.write(String(sent));
`;

function flood(s: SignInServer, doc: DocServer, kind: "slow" | "fail", workers: number, max: number, pauseMs = 0): { done(): Promise<number>; stop(): Promise<number> } {
  const child = spawn(process.execPath, ["--input-type=module", "-e", FLOOD_SCRIPT, s.origin, doc.origin, kind, String(workers), String(max), "20", FLOODER, String(pauseMs)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once("close", () => resolve(Number(out))));
  return {
    done: () => exited,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: Math.round(performance.now() - started), value };
}

describe("finding 1: a flood of unique metadata URLs from one address delays no one else", () => {
  let s: SignInServer;
  let doc: DocServer;
  const figures: Record<string, number> = {};
  beforeAll(async () => {
    doc = await docServer();
    s = await startSignInServer({
      // Fresh for 300 ms only, so the known client's document is past fresh while the flood runs.
      settings: { trustProxy: ["loopback"], clients: { allowLoopbackMetadata: true, metadataDeadlineMs: 2000, metadataFreshMs: 300 } },
    });
  });
  afterAll(async () => {
    await s?.close();
    doc?.server.closeAllConnections();
    doc?.server.close();
    console.info(`flood figures: ${JSON.stringify(figures)}`);
  });

  it("the known client signs in and refreshes within a second, and a newcomer from another address gets its document fetched", async () => {
    const good = `${doc.origin}/good.json`;
    const first = await rawCode(s.origin, { clientId: good });
    const tokens = await tokenRequest(s.origin, { grant_type: "authorization_code", client_id: good, code: first.code, code_verifier: first.verifier, redirect_uri: REDIRECT });
    expect(tokens.status).toBe(200);
    let refresh = String(tokens.body.refresh_token);

    // 600 unique failing URLs: before, any 500 emptied the whole cache.
    const flush = flood(s, doc, "fail", 20, 600);
    figures.flushRequests = await flush.done();
    // About 60 unique slow URLs a second: each holds a fetch for its 2 s deadline. The rate limits
    // (off here) would let one address send 3.3 a second to /token and 0.3 to /authorize.
    const hold = flood(s, doc, "slow", 16, 6000, 250);
    try {
      await new Promise((resolve) => setTimeout(resolve, 800));
      const authorize = await timed(() => fetch(authorizeUrl(s.origin, good, pkce().challenge), { redirect: "manual" }));
      expect(authorize.value.status).toBe(200);
      figures.knownAuthorizeMs = authorize.ms;

      const refreshed = await timed(() => tokenRequest(s.origin, { grant_type: "refresh_token", client_id: good, refresh_token: refresh }));
      expect(refreshed.value.status, JSON.stringify(refreshed.value.body)).toBe(200);
      refresh = String(refreshed.value.body.refresh_token);
      figures.knownRefreshMs = refreshed.ms;

      // A whole new sign-in of the known client: its /token is the metadata-dependent step.
      const again = await rawCode(s.origin, { clientId: good });
      const exchanged = await timed(() => tokenRequest(s.origin, { grant_type: "authorization_code", client_id: good, code: again.code, code_verifier: again.verifier, redirect_uri: REDIRECT }));
      expect(exchanged.value.status).toBe(200);
      figures.knownCodeExchangeMs = exchanged.ms;

      // Never seen before, from another address and host: the flooder's share is not everyone's.
      const newcomer = await timed(() => fetch(authorizeUrl(s.origin, `${doc.origin.replace("127.0.0.1", "localhost")}/newcomer.json`, pkce().challenge), { redirect: "manual", headers: { "x-forwarded-for": "203.0.113.7" } }));
      expect(newcomer.value.status).toBe(200);
      figures.newcomerAuthorizeMs = newcomer.ms;

      for (const key of ["knownAuthorizeMs", "knownRefreshMs", "knownCodeExchangeMs", "newcomerAuthorizeMs"]) expect(figures[key], key).toBeLessThan(1000);
    } finally {
      figures.floodRequests = await hold.stop();
    }
    // The flooder held at most its share of fetches at once, whatever it sent.
    figures.slowFetchesAtOnce = doc.slowMost;
    figures.slowFetches = doc.slowSeen;
    figures.failingFetches = doc.failSeen;
    expect(doc.slowMost).toBeLessThanOrEqual(4);
  }, 60_000);
});
