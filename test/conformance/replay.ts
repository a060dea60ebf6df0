// A replay server on 127.0.0.1: answers each request with a fixture of test/fixtures/zoho/, byte for
// byte, so the real client code (ky, the token manager, the tools) meets Zoho's own published
// answer shapes over real HTTP. No logic of Zoho's is imitated here: what it serves is the fixture.

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

export const FIXTURE_DIR = fileURLToPath(new URL("../fixtures/zoho/", import.meta.url));

/**
 * The two kinds of fixture. `conformance/`: Zoho's own published shapes, each naming the Zoho doc
 * page or SDK model file it comes from. `defensive/`: forms no Zoho sample shows that the server
 * handles anyway (our choice), each saying so, and why, in a source that starts with "defensive: ".
 */
export const FIXTURE_KINDS = ["conformance", "defensive"] as const;
export type FixtureKind = (typeof FIXTURE_KINDS)[number];

/** One recorded Zoho answer. `source` names the Zoho doc page or SDK model file the shape comes from, or says why it is defensive. */
export interface Fixture {
  source: string;
  status: number;
  headers?: Record<string, string>;
  /** A JSON body, sent as Zoho sends it (application/json;charset=UTF-8). */
  body?: unknown;
  /** A binary body (an attachment), base64; sent with `headers`' content-type. */
  bodyBase64?: string;
}

/** Which directory holds the fixture `name` (names are unique across both). */
export function kindOf(name: string): FixtureKind {
  const kind = FIXTURE_KINDS.find((k) => existsSync(`${FIXTURE_DIR}${k}/${name}.json`));
  if (!kind) throw new Error(`no fixture ${name} under ${FIXTURE_DIR}{${FIXTURE_KINDS.join(",")}}/`);
  return kind;
}

export function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(`${FIXTURE_DIR}${kindOf(name)}/${name}.json`, "utf8")) as Fixture;
}

/** Every fixture on disk; a file outside the two kinds' directories is listed too, so the suite refuses it. */
export function fixtureNames(kind?: FixtureKind): string[] {
  const names = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
  if (kind) return names(`${FIXTURE_DIR}${kind}`).sort();
  return [...names(FIXTURE_DIR), ...FIXTURE_KINDS.flatMap((k) => names(`${FIXTURE_DIR}${k}`))].sort();
}

export interface ReplayRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
}

export interface Replay {
  url: string;
  /** Path (no query) -> fixture. Unlisted /crm paths answer the 404 INVALID_URL_PATTERN fixture. */
  routes: Map<string, Fixture>;
  /** The token endpoint's answer. */
  token: Fixture;
  requests: ReplayRequest[];
  /** Fixture names served so far, for the suite's "every fixture is replayed" check. */
  close(): Promise<void>;
}

export async function startReplay(): Promise<Replay> {
  const notFound = fixture("error-404-invalid-url-pattern");
  const replay: Omit<Replay, "close" | "url"> = { routes: new Map(), token: fixture("token-success"), requests: [] };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    replay.requests.push({ method: req.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams), headers });
    req.resume();
    const f = url.pathname === "/oauth/v2/token" ? replay.token : (replay.routes.get(url.pathname) ?? notFound);
    if (f.status === 204 || f.status === 304) {
      res.writeHead(f.status, f.headers ?? {}).end();
      return;
    }
    const body = f.bodyBase64 !== undefined ? Buffer.from(f.bodyBase64, "base64") : Buffer.from(JSON.stringify(f.body));
    const type = f.bodyBase64 !== undefined ? {} : { "content-type": "application/json;charset=UTF-8" };
    res.writeHead(f.status, { ...type, ...f.headers, "content-length": String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...replay,
    url,
    get token() {
      return replay.token;
    },
    set token(f: Fixture) {
      replay.token = f;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
