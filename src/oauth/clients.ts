import { lookup } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import type { OAuthRegisteredClientsStore } from "@modelcontextprotocol/sdk/server/auth/clients.js";
import { InvalidClientMetadataError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { OAuthClientMetadataSchema, type OAuthClientInformationFull } from "@modelcontextprotocol/sdk/shared/auth.js";
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

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Redirect URIs a sign-in may end at, an allowlist: https; http on loopback only (RFC 8252 7.3);
 * or a native app's private-use scheme, which RFC 8252 7.1 says is a reverse domain name the app
 * controls (com.example.app:/callback), so it contains a dot. Nothing a browser runs or shows
 * itself (javascript:, data:, ws:, view-source:, filesystem: ...) fits any of the three.
 */
export function checkRedirectUri(uri: string): void {
  if (!URL.canParse(uri)) throw new InvalidClientMetadataError(`redirect_uris: ${uri.slice(0, 100)} is not a URL`);
  const url = new URL(uri);
  if (url.hash) throw new InvalidClientMetadataError(`redirect_uris: ${uri} must not have a fragment`);
  if (url.username || url.password) throw new InvalidClientMetadataError(`redirect_uris: ${uri} must not hold a user name or password`);
  if (url.protocol === "https:") return;
  if (url.protocol === "http:") {
    if (LOOPBACK_HOSTS.has(url.hostname)) return;
    throw new InvalidClientMetadataError(`redirect_uris: ${uri} must use https (http is only for localhost, 127.0.0.1 or [::1])`);
  }
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/i.test(url.protocol)) return;
  throw new InvalidClientMetadataError(`redirect_uris: ${uri} must use https, http on loopback, or an app's own scheme named as a reverse domain (com.example.app:/callback)`);
}

export interface ClientStoreOptions {
  /** Tests only: lets a metadata document be served over http from 127.0.0.1. */
  allowLoopbackMetadata?: boolean;
  metadataTimeoutMs?: number;
  metadataMaxBytes?: number;
}

export class SealedClientsStore implements OAuthRegisteredClientsStore {
  private readonly documents = new Map<string, { expires: number; client: Promise<OAuthClientInformationFull | undefined> }>();

  constructor(
    private readonly sealer: Sealer,
    private readonly options: ClientStoreOptions = {},
  ) {}

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
    for (const uri of client.redirect_uris) checkRedirectUri(uri);
    if (client.grant_types && client.grant_types.some((g) => g !== "authorization_code" && g !== "refresh_token")) {
      throw new InvalidClientMetadataError("grant_types may only hold authorization_code and refresh_token");
    }
    const sealed: SealedClient = {
      redirect_uris: client.redirect_uris,
      token_endpoint_auth_method: method,
      ...(client.client_name ? { client_name: client.client_name.slice(0, MAX_NAME) } : {}),
      ...(client.client_uri ? { client_uri: client.client_uri } : {}),
    };
    const clientId = await this.sealer.seal("client", { client: sealed });
    const full = await this.getClient(clientId);
    return { ...full!, grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] };
  }

  /** A Client ID Metadata Document, cached for five minutes (failures for one). */
  private metadataDocument(url: string): Promise<OAuthClientInformationFull | undefined> {
    const hit = this.documents.get(url);
    if (hit && hit.expires > Date.now()) return hit.client;
    if (this.documents.size > 500) this.documents.clear();
    const client = fetchMetadataDocument(url, this.options).catch(() => undefined);
    const entry = { expires: Date.now() + 60_000, client };
    this.documents.set(url, entry);
    void client.then((c) => {
      if (c) entry.expires = Date.now() + 5 * 60_000;
    });
    return client;
  }
}

/** Addresses a metadata fetch must never reach: loopback, private, link-local, CGNAT, multicast... */
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const) FORBIDDEN.addSubnet(net, prefix, "ipv4");
// No ::ffff:0:0/96 rule: BlockList checks IPv4 addresses against IPv6 rules as IPv4-mapped, so that
// rule would refuse every IPv4 address. Mapped addresses are unwrapped and checked as IPv4 instead.
for (const [net, prefix] of [["::", 127], ["64:ff9b::", 96], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8]] as const) FORBIDDEN.addSubnet(net, prefix, "ipv6");
FORBIDDEN.addAddress("::1", "ipv6");

export function isForbiddenAddress(address: string): boolean {
  const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (mapped) {
    const v4 = mapped[1] ?? [mapped[2]!, mapped[3]!].flatMap((h) => [parseInt(h, 16) >> 8, parseInt(h, 16) & 255]).join(".");
    return isForbiddenAddress(v4);
  }
  const family = isIP(address);
  return family === 0 || FORBIDDEN.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Checks every address a name resolves to at connection time, so a DNS answer that changes
 * between a check and the connection (rebinding) cannot slip through.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const list = addresses as Array<{ address: string; family: number }>;
    const bad = list.find((a) => isForbiddenAddress(a.address));
    if (bad || list.length === 0) return callback(Object.assign(new Error(`refusing to fetch client metadata from ${hostname}: not a public address`), { code: "EFORBIDDEN" }), "", 0);
    if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

/** Fetches and checks a Client ID Metadata Document: https, public address, no redirect, 5 s, 5 KB. */
export async function fetchMetadataDocument(clientId: string, options: ClientStoreOptions = {}): Promise<OAuthClientInformationFull | undefined> {
  const url = new URL(clientId);
  const loopbackTest = options.allowLoopbackMetadata === true && url.protocol === "http:" && url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !loopbackTest) return undefined;
  if (url.pathname === "/" || url.hash || url.username || url.password) return undefined;
  if (isIP(url.hostname.replace(/^\[|\]$/g, "")) && !loopbackTest && isForbiddenAddress(url.hostname.replace(/^\[|\]$/g, ""))) return undefined;
  const maxBytes = options.metadataMaxBytes ?? 5 * 1024;
  const text = await new Promise<string>((resolve, reject) => {
    const get = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = get(url, { method: "GET", headers: { accept: "application/json" }, timeout: options.metadataTimeoutMs ?? 5000, ...(loopbackTest ? {} : { lookup: guardedLookup }) }, (res) => {
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
    ...(document.client_name ? { client_name: String(document.client_name).slice(0, MAX_NAME) } : {}),
    ...(document.client_uri ? { client_uri: document.client_uri } : {}),
  };
}
