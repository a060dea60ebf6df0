import { lookup } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import pLimit, { type LimitFunction } from "p-limit";
import type { OAuthRegisteredClientsStore } from "@modelcontextprotocol/sdk/server/auth/clients.js";
import { InvalidClientMetadataError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { OAuthClientMetadataSchema, type OAuthClientInformationFull } from "@modelcontextprotocol/sdk/shared/auth.js";
import { displayName } from "./pages.js";
import type { Sealer } from "./seal.js";

/**
 * The MCP clients this server knows, with no store behind them:
 *
 * - Dynamic client registration (RFC 7591): the registered metadata that matters (redirect URIs,
 *   name, auth method) is sealed INTO the client_id, and a confidential client's secret is an HMAC
 *   of that client_id. Any replica with the same secret knows every client; none can be forged.
 * - Client ID Metadata Documents: a client_id that is an https URL names a JSON document the client
 *   publishes; it is fetched (with SSRF guards) and must name itself as client_id.
 */

/** What a sealed client_id holds: the metadata the flow relies on, nothing decorative. */
interface SealedClient {
  redirect_uris: string[];
  client_name?: string;
  client_uri?: string;
  token_endpoint_auth_method: string;
}

const MAX_REDIRECT_URIS = 10;
const MAX_NAME = 100;
/** Any one URI a client registers; and all of them together, so the sealed client_id stays a usable size. */
const MAX_URI = 2000;
const MAX_SEALED_METADATA = 6000;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Cursor signs in to MCP servers through cursor://anysphere.cursor-mcp/oauth/callback. */
const DESKTOP_CLIENT_SCHEMES = new Set(["cursor:"]);

/**
 * Redirect URIs a sign-in may end at, an allowlist: https; http on loopback only (RFC 8252 7.3);
 * or a native app's private-use scheme, which RFC 8252 7.1 says is a reverse domain name the app
 * controls (com.example.app:/callback), so it contains a dot. Nothing a browser runs or shows
 * itself (javascript:, data:, ws:, view-source:, filesystem: ...) fits any of the three.
 */
export function checkRedirectUri(uri: string): void {
  if (!URL.canParse(uri)) throw new InvalidClientMetadataError(`redirect_uris: ${uri.slice(0, 100)} is not a URL`);
  const url = new URL(uri);
  // Checked on the text: URL parsing drops an empty "#" and resolves "..", which the exact match compares as written.
  if (url.hash || uri.includes("#")) throw new InvalidClientMetadataError(`redirect_uris: ${uri} must not have a fragment`);
  if (uri.includes("\\") || /\/\.\.?(?=[/?]|$)/.test(uri.replace(/^[^:]+:\/\/[^/]*/, ""))) throw new InvalidClientMetadataError(`redirect_uris: ${uri} must not hold . or .. segments or backslashes`);
  if (url.username || url.password) throw new InvalidClientMetadataError(`redirect_uris: ${uri} must not hold a user name or password`);
  if (url.protocol === "https:") return;
  if (url.protocol === "http:") {
    if (LOOPBACK_HOSTS.has(url.hostname)) return;
    throw new InvalidClientMetadataError(`redirect_uris: ${uri} must use https (http is only for localhost, 127.0.0.1 or [::1])`);
  }
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/i.test(url.protocol)) return;
  // Desktop MCP clients whose deep-link scheme predates that advice, named one by one.
  if (DESKTOP_CLIENT_SCHEMES.has(url.protocol)) return;
  throw new InvalidClientMetadataError(`redirect_uris: ${uri} must use https, http on loopback, or an app's own scheme named as a reverse domain (com.example.app:/callback)`);
}

export interface ClientStoreOptions {
  /** Tests only: lets a metadata document be served over http from 127.0.0.1. */
  allowLoopbackMetadata?: boolean;
  /** Idle time allowed between two packets of a metadata document. */
  metadataTimeoutMs?: number;
  /** The whole fetch of a metadata document, however the bytes trickle in. */
  metadataDeadlineMs?: number;
  metadataMaxBytes?: number;
  /** Metadata documents fetched at once, and how many more may wait; beyond that a client is refused. */
  metadataConcurrency?: number;
  metadataQueue?: number;
}

export class SealedClientsStore implements OAuthRegisteredClientsStore {
  private readonly documents = new Map<string, { expires: number; client: Promise<OAuthClientInformationFull | undefined> }>();
  /** Every fetch is a request some stranger's client_id made us send: a few at a time. */
  private readonly fetches: LimitFunction;

  constructor(
    private readonly sealer: Sealer,
    private readonly options: ClientStoreOptions = {},
  ) {
    this.fetches = pLimit(options.metadataConcurrency ?? 4);
  }

  async getClient(clientId: string): Promise<OAuthClientInformationFull | undefined> {
    if (/^https?:\/\//i.test(clientId)) return this.metadataDocument(clientId);
    const sealed = await this.sealer.open<{ client: SealedClient }>("client", clientId);
    if (!sealed?.client) return undefined;
    const client = sealed.client;
    return {
      ...client,
      client_id: clientId,
      ...(client.token_endpoint_auth_method === "none" ? {} : { client_secret: this.sealer.clientSecret(clientId), client_secret_expires_at: 0 }),
      ...(typeof sealed.iat === "number" ? { client_id_issued_at: sealed.iat } : {}),
    };
  }

  /** Called by the SDK's /register handler with metadata it has validated against RFC 7591's schema. */
  async registerClient(client: Omit<OAuthClientInformationFull, "client_id" | "client_id_issued_at">): Promise<OAuthClientInformationFull> {
    const method = client.token_endpoint_auth_method ?? "client_secret_post";
    if (method !== "none" && method !== "client_secret_post") {
      throw new InvalidClientMetadataError("token_endpoint_auth_method must be none or client_secret_post");
    }
    if (client.redirect_uris.length === 0 || client.redirect_uris.length > MAX_REDIRECT_URIS) {
      throw new InvalidClientMetadataError(`redirect_uris must hold 1 to ${MAX_REDIRECT_URIS} URIs`);
    }
    for (const uri of client.redirect_uris) {
      if (uri.length > MAX_URI) throw new InvalidClientMetadataError(`redirect_uris: each must be at most ${MAX_URI} characters`);
      checkRedirectUri(uri);
    }
    for (const field of ["client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri"] as const) {
      const value = client[field];
      if (typeof value === "string" && value.length > MAX_URI) throw new InvalidClientMetadataError(`${field} must be at most ${MAX_URI} characters`);
    }
    if (client.grant_types && client.grant_types.some((g) => g !== "authorization_code" && g !== "refresh_token")) {
      throw new InvalidClientMetadataError("grant_types may only hold authorization_code and refresh_token");
    }
    // Said, not ignored: a client that asked for the implicit flow would otherwise believe it has it.
    if (client.response_types && client.response_types.some((t) => t !== "code")) {
      throw new InvalidClientMetadataError("response_types may only hold code (the implicit flow is not offered)");
    }
    const name = client.client_name ? displayName(client.client_name, MAX_NAME) : "";
    const sealed: SealedClient = {
      redirect_uris: client.redirect_uris,
      token_endpoint_auth_method: method,
      ...(name ? { client_name: name } : {}),
      ...(client.client_uri ? { client_uri: client.client_uri } : {}),
    };
    if (JSON.stringify(sealed).length > MAX_SEALED_METADATA) {
      throw new InvalidClientMetadataError(`redirect_uris, client_name and client_uri together must be at most ${MAX_SEALED_METADATA} characters`);
    }
    const clientId = await this.sealer.seal("client", { client: sealed });
    // The client_id must open again, or the client would get a registration it can never use.
    const full = await this.getClient(clientId);
    if (!full) throw new InvalidClientMetadataError("the client metadata is too large to register");
    return { ...full, grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] };
  }

  /** A Client ID Metadata Document, cached for five minutes (failures for one). */
  private metadataDocument(url: string): Promise<OAuthClientInformationFull | undefined> {
    const hit = this.documents.get(url);
    if (hit && hit.expires > Date.now()) return hit.client;
    if (this.documents.size > 500) this.documents.clear();
    // Too many waiting already: refused now (and not remembered), rather than queued without end.
    if (this.fetches.pendingCount >= (this.options.metadataQueue ?? 16)) return Promise.resolve(undefined);
    const client = this.fetches(() => fetchMetadataDocument(url, this.options)).catch(() => undefined);
    const entry = { expires: Date.now() + 60_000, client };
    this.documents.set(url, entry);
    void client.then((c) => {
      if (c) entry.expires = Date.now() + 5 * 60_000;
    });
    return client;
  }
}

/**
 * Addresses a metadata fetch must never reach: loopback, private, link-local, CGNAT, multicast,
 * documentation and reserved ranges. IPv4 and IPv6 rules live in separate lists: Node's BlockList
 * matches an IPv4 address against IPv4-mapped IPv6 rules, so one list holding `::ffff:0:0/96`
 * refused every IPv4 host. IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4,
 * Teredo) are unpacked and the IPv4 inside checked by the IPv4 rules.
 */
const FORBIDDEN_V4 = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24],
  ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) FORBIDDEN_V4.addSubnet(net, prefix, "ipv4");
const FORBIDDEN_V6 = new BlockList();
for (const [net, prefix] of [
  // Unique local, link-local, site-local (deprecated, still routed by some), multicast.
  ["fc00::", 7], ["fe80::", 10], ["fec0::", 10], ["ff00::", 8],
  // Discard, documentation, ORCHID, and local-use NAT64 (RFC 8215: its IPv4 position depends on a local prefix length).
  ["100::", 64], ["2001:db8::", 32], ["3fff::", 20], ["2001:10::", 28], ["2001:20::", 28], ["64:ff9b:1::", 48],
] as const) FORBIDDEN_V6.addSubnet(net, prefix, "ipv6");

export function isForbiddenAddress(address: string): boolean {
  const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (mapped) {
    const v4 = mapped[1] ?? [mapped[2]!, mapped[3]!].flatMap((h) => [parseInt(h, 16) >> 8, parseInt(h, 16) & 255]).join(".");
    return isForbiddenAddress(v4);
  }
  const family = isIP(address);
  if (family === 4) return FORBIDDEN_V4.check(address, "ipv4");
  if (family !== 6) return true;
  const bare = address.replace(/%.*$/, "");
  const groups = ipv6Groups(bare);
  if (!groups) return true;
  if (FORBIDDEN_V6.check(bare, "ipv6")) return true;
  return embeddedIPv4(groups).some((v4) => FORBIDDEN_V4.check(v4, "ipv4"));
}

/** The eight 16-bit groups of a valid IPv6 address (zone removed), a trailing dotted quad included. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill("0"), ...tail] : head;
  if (groups.length !== 8) return undefined;
  return groups.map((g) => Number.parseInt(g, 16));
}

function v4(high: number, low: number): string {
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** The IPv4 addresses an IPv6 address leads to, for the forms that embed one. */
function embeddedIPv4(g: number[]): string[] {
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // ::a.b.c.d (compatible, :: and ::1 included), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated).
  if (zero(0, 4) && ((g[4] === 0 && (g[5] === 0 || g[5] === 0xffff)) || (g[4] === 0xffff && g[5] === 0))) return [v4(g[6]!, g[7]!)];
  // NAT64 well-known prefix 64:ff9b::/96.
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return [v4(g[6]!, g[7]!)];
  // 6to4 2002:AABB:CCDD::/48.
  if (g[0] === 0x2002) return [v4(g[1]!, g[2]!)];
  // Teredo 2001:0000:server:...:client (the client address stored inverted).
  if (g[0] === 0x2001 && g[1] === 0) return [v4(g[2]!, g[3]!), v4(~g[6]! & 0xffff, ~g[7]! & 0xffff)];
  return [];
}

/**
 * Checks every address a name resolves to at connection time, so a DNS answer that changes
 * between a check and the connection (rebinding) cannot slip through.
 */
const guardedLookupWith = (allowLoopback: boolean): LookupFunction => (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const list = addresses as Array<{ address: string; family: number }>;
    const bad = list.find((a) => isForbiddenAddress(a.address) && !(allowLoopback && (a.address === "::1" || a.address.startsWith("127."))));
    if (bad || list.length === 0) return callback(Object.assign(new Error(`refusing to fetch client metadata from ${hostname}: not a public address`), { code: "EFORBIDDEN" }), "", 0);
    if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};
const guardedLookup = guardedLookupWith(false);
const loopbackTestLookup = guardedLookupWith(true);

/** Fetches and checks a Client ID Metadata Document: https, public address, no redirect, 5 s idle and 10 s in all, 5 KB. */
export async function fetchMetadataDocument(clientId: string, options: ClientStoreOptions = {}): Promise<OAuthClientInformationFull | undefined> {
  const url = new URL(clientId);
  const loopbackTest = options.allowLoopbackMetadata === true && url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "localhost");
  if (url.protocol !== "https:" && !loopbackTest) return undefined;
  if (url.pathname === "/" || url.hash || url.username || url.password) return undefined;
  if (isIP(url.hostname.replace(/^\[|\]$/g, "")) && !loopbackTest && isForbiddenAddress(url.hostname.replace(/^\[|\]$/g, ""))) return undefined;
  const maxBytes = options.metadataMaxBytes ?? 5 * 1024;
  const text = await new Promise<string>((resolve, reject) => {
    const get = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = get(url, { method: "GET", headers: { accept: "application/json" }, timeout: options.metadataTimeoutMs ?? 5000, lookup: loopbackTest ? loopbackTestLookup : guardedLookup }, (res) => {
      // Redirects are not followed: the document must live at the client_id itself.
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`)), res.resume();
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return reject(new Error("client metadata document too large")), req.destroy();
        chunks.push(chunk);
      });
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("client metadata document: timeout")));
    // The idle timeout alone lets a server trickle a byte at a time for ever: one deadline for all of it.
    const deadline = setTimeout(() => req.destroy(new Error("client metadata document: deadline")), options.metadataDeadlineMs ?? 10_000);
    req.on("close", () => clearTimeout(deadline));
    req.on("error", reject);
    req.end();
  });
  const parsed = OAuthClientMetadataSchema.extend({}).passthrough().safeParse(JSON.parse(text));
  if (!parsed.success) return undefined;
  const document = parsed.data as OAuthClientInformationFull & { client_id?: unknown };
  // The document must name itself: otherwise anyone could point at someone else's metadata.
  if (document.client_id !== clientId) return undefined;
  if (document.redirect_uris.length === 0) return undefined;
  try {
    for (const uri of document.redirect_uris) checkRedirectUri(uri);
  } catch {
    return undefined;
  }
  // A metadata document can carry no secret: such clients are public and rely on PKCE.
  return {
    client_id: clientId,
    redirect_uris: document.redirect_uris,
    token_endpoint_auth_method: "none",
    ...(document.client_name && displayName(String(document.client_name), MAX_NAME) ? { client_name: displayName(String(document.client_name), MAX_NAME) } : {}),
    ...(document.client_uri ? { client_uri: document.client_uri } : {}),
  };
}
