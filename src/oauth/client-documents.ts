import { AsyncLocalStorage } from "node:async_hooks";
import type { OAuthClientInformationFull } from "@modelcontextprotocol/sdk/shared/auth.js";

/**
 * Client ID Metadata Documents as this server remembers them. Every fetch is a request a
 * stranger's client_id made us send, so the cache and the fetches are built to hold under a flood
 * of unique, slow metadata URLs (the second review's finding 1):
 *
 * - Fair shares, no queue: each requesting address may have a few fetches running, each document
 *   host a few, the process a few dozen; past a share the client_id is refused at once (and the
 *   next request may try again). One address can hold four fetches, never everyone's.
 * - Refusals are remembered: a document that failed (timeout, HTTP error, not a valid document)
 *   is not fetched again for five minutes, from anyone.
 * - Documents of clients that were issued tokens ("proven") live in their own cache, which only a
 *   completed sign-in can enter, so no flood of URLs, valid documents or not, can push them out.
 *   Past five minutes they are served as they were while a fresh copy is fetched in the
 *   background (for up to a day): a known client never waits on a fetch.
 */

export interface DocumentLimits {
  /** Fetches running at once, for the whole process. */
  total: number;
  /** ... for one requesting address (as MCP_TRUST_PROXY lets us see it). */
  perRequester: number;
  /** ... to one document host. */
  perHost: number;
  /** How long a fetched document is used before it is fetched again. */
  freshMs: number;
}

export const DOCUMENT_LIMITS: DocumentLimits = { total: 32, perRequester: 4, perHost: 4, freshMs: 5 * 60_000 };

/** A proven document is served for this long past its freshness while it cannot be fetched again. */
const STALE_MS = 24 * 3600_000;
/** How long a failed document is refused without a new fetch. */
const FAILED_MS = 5 * 60_000;
const MAX_PROVEN = 1000;
const MAX_SEEN = 500;
const MAX_FAILED = 10_000;

/** The address the current request comes from, set around the sign-in endpoints (http.ts). */
const requester = new AsyncLocalStorage<string>();

export function withRequester<T>(address: string, work: () => T): T {
  return requester.run(address, work);
}

type Client = OAuthClientInformationFull;
interface Cached {
  client: Client;
  fetchedAt: number;
}

export class MetadataDocuments {
  private readonly proven = new Map<string, Cached>();
  private readonly seen = new Map<string, Cached>();
  private readonly failed = new Map<string, number>();
  private readonly pending = new Map<string, Promise<Client | undefined>>();
  private readonly running = { total: 0, byRequester: new Map<string, number>(), byHost: new Map<string, number>() };
  /** Fetches refused for a full share (figures for tests). */
  refusedForShare = 0;

  constructor(
    private readonly fetchDocument: (url: string) => Promise<Client | undefined>,
    private readonly limits: DocumentLimits = DOCUMENT_LIMITS,
  ) {}

  get(url: string): Promise<Client | undefined> {
    const now = Date.now();
    const proven = this.proven.get(url);
    if (proven && now - proven.fetchedAt < this.limits.freshMs + STALE_MS) {
      // Most recently used last: the least used proven client is the one a full cache forgets.
      this.proven.delete(url);
      this.proven.set(url, proven);
      if (now - proven.fetchedAt >= this.limits.freshMs) void this.fetch(url, "(revalidation)");
      return Promise.resolve(proven.client);
    }
    const seen = this.seen.get(url);
    if (seen && now - seen.fetchedAt < this.limits.freshMs) return Promise.resolve(seen.client);
    if ((this.failed.get(url) ?? 0) > now) return Promise.resolve(undefined);
    return this.fetch(url, requester.getStore() ?? "(unknown)");
  }

  /** Tokens were issued to this client: its document joins the cache no flood can empty. */
  prove(url: string): void {
    const cached = this.proven.get(url) ?? this.seen.get(url);
    if (!cached) return;
    this.seen.delete(url);
    this.proven.delete(url);
    this.proven.set(url, cached);
    if (this.proven.size > MAX_PROVEN) this.proven.delete(this.proven.keys().next().value!);
  }

  private fetch(url: string, who: string): Promise<Client | undefined> {
    const pending = this.pending.get(url);
    if (pending) return pending;
    const host = new URL(url).host;
    const { total, byRequester, byHost } = this.running;
    if (total >= this.limits.total || (byRequester.get(who) ?? 0) >= this.limits.perRequester || (byHost.get(host) ?? 0) >= this.limits.perHost) {
      this.refusedForShare++;
      return Promise.resolve(undefined);
    }
    this.running.total++;
    byRequester.set(who, (byRequester.get(who) ?? 0) + 1);
    byHost.set(host, (byHost.get(host) ?? 0) + 1);
    const done = this.fetchDocument(url)
      .catch(() => undefined)
      .then((client) => {
        this.settle(url, client);
        return client ?? (this.proven.get(url)?.client);
      })
      .finally(() => {
        this.pending.delete(url);
        this.running.total--;
        release(byRequester, who);
        release(byHost, host);
      });
    this.pending.set(url, done);
    return done;
  }

  private settle(url: string, client: Client | undefined): void {
    if (!client) {
      // A proven client keeps its last good document through a passing failure (up to STALE_MS).
      if (this.proven.has(url)) return;
      this.failed.delete(url);
      this.failed.set(url, Date.now() + FAILED_MS);
      if (this.failed.size > MAX_FAILED) this.failed.delete(this.failed.keys().next().value!);
      return;
    }
    this.failed.delete(url);
    const cached = { client, fetchedAt: Date.now() };
    if (this.proven.has(url)) {
      this.proven.set(url, cached);
      return;
    }
    this.seen.delete(url);
    this.seen.set(url, cached);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value!);
  }
}

function release(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left <= 0) counts.delete(key);
  else counts.set(key, left);
}
