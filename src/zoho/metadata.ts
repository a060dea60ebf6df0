import { AsyncLocalStorage } from "node:async_hooks";
import { crmPath, type ZohoClient } from "./client.js";
import { ZohoError } from "./errors.js";

/** One entry of Zoho's Related List Metadata API, reduced to what the tools use. */
export interface RelatedListMeta {
  api_name: string;
  display_label: string;
  /** The related records' own module; null for grouped lists (the activity views mix Calls, Tasks, Events). */
  module: string | null;
  type: string;
  status: string;
  href: string | null;
  sequence_number: number;
  /** The columns the CRM shows for this list, when the metadata carries them. */
  fields: string[] | null;
}

/** One entry of `GET /settings/fields?module=...`, reduced to what default fields need. */
export interface FieldMeta {
  api_name: string;
  data_type: string;
  system_mandatory: boolean;
}

/** Metadata changes when an admin edits a layout: rarely, but a long-lived server should notice. */
const TTL_MS = 10 * 60_000;

/** Answers that asking again will not change soon: a missing scope or privilege, an unknown module. */
const REFUSALS = new Set(["OAUTH_SCOPE_MISMATCH", "NO_PERMISSION", "AUTHORIZATION_FAILED", "INVALID_MODULE", "NOT_SUPPORTED"]);

/** How long a refusal is remembered: short, so a scope the admin grants later is soon noticed. */
const REFUSAL_TTL_MS = 60_000;

/**
 * Most entries one metadata cache keeps (one per module name asked). An org has a few dozen modules;
 * names that do not exist are remembered too (as refusals), so without a bound a client probing
 * names would grow the process without end. The least recently used entry goes first.
 */
export const METADATA_CACHE_ENTRIES = 256;

/** The AbortSignal of the tool call whose work is running (see duringCall). */
const callSignal = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs a tool call's work with its AbortSignal in reach of the metadata it shares with other
 * calls: a metadata request that every call waiting for it has given up on is aborted (and, still
 * queued behind the concurrency cap, never sent). Ambient, like the logger's per-call sink, so the
 * many places that read metadata need not carry the signal; their Zoho requests of their own take
 * it explicitly.
 */
export function duringCall<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return callSignal.run(signal, work);
}

interface Entry<T> {
  expires: number;
  value: Promise<T>;
  /** Aborts the request; undefined once it has settled. */
  controller: AbortController | undefined;
  /** Calls waiting for it that may still give up; Infinity once one waits that cannot (no signal). */
  waiting: number;
  /** Removes the listeners on the waiting calls' signals. */
  forget: Array<() => void>;
}

/**
 * Per-key cache of metadata answers, bounded (LRU, METADATA_CACHE_ENTRIES). Concurrent askers share one request (the promise is stored
 * before it settles); it is aborted and forgotten when every one of them was cancelled. A refusal is remembered for a minute, so a server without the metadata scope
 * does not pay a failing request on every call; any other failure (timeout, 5xx) is forgotten at
 * once and the next caller asks again.
 */
class MetadataCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  requests = 0;

  constructor(
    private readonly load: (key: string, signal: AbortSignal) => Promise<T>,
    private readonly maxEntries = METADATA_CACHE_ENTRIES,
  ) {}

  /** The asking call waits for `entry` too: when it was the last one waiting and gives up, so does the request. */
  private wait(key: string, entry: Entry<T>): void {
    if (!entry.controller) return;
    const signal = callSignal.getStore();
    if (!signal) return void (entry.waiting = Infinity);
    if (signal.aborted) return; // it no longer waits
    entry.waiting++;
    const leave = () => {
      if (--entry.waiting > 0 || !entry.controller) return;
      // Gone from the cache now, not when the rejection arrives: a call asking meanwhile starts afresh.
      if (this.entries.get(key) === entry) this.entries.delete(key);
      entry.controller.abort(signal.reason);
    };
    signal.addEventListener("abort", leave, { once: true });
    entry.forget.push(() => signal.removeEventListener("abort", leave));
  }

  /** Entries held now (at most maxEntries). */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && Date.now() < hit.expires) {
      // Most recently used goes last: a Map iterates in insertion order, so the first key is the LRU one.
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.wait(key, hit);
      return hit.value;
    }
    // A cancelled call's work may run on a little (until it next awaits its own signal): it starts no request.
    const asking = callSignal.getStore();
    if (asking?.aborted) return Promise.reject(asking.reason);
    this.requests++;
    // Tied to no one caller's AbortSignal: the answer is shared with every later caller (see wait).
    const controller = new AbortController();
    const entry: Entry<T> = { expires: Date.now() + TTL_MS, value: this.load(key, controller.signal), controller, waiting: 0, forget: [] };
    this.wait(key, entry);
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    const settled = () => {
      entry.controller = undefined;
      for (const forget of entry.forget.splice(0)) forget();
    };
    entry.value.then(settled, settled);
    entry.value.catch((error: unknown) => {
      if (this.entries.get(key) !== entry) return;
      if (error instanceof ZohoError && REFUSALS.has(error.code)) entry.expires = Date.now() + REFUSAL_TTL_MS;
      else this.entries.delete(key);
    });
    return entry.value;
  }
}

/** Related List Metadata, cached per module for ten minutes. */
export class RelatedListCatalog {
  private readonly cache: MetadataCache<RelatedListMeta[]>;

  constructor(
    private readonly client: ZohoClient,
    maxEntries = METADATA_CACHE_ENTRIES,
  ) {
    this.cache = new MetadataCache((module, signal) => this.fetch(module, signal), maxEntries);
  }

  /** Requests sent to the Related List Metadata API so far. */
  get requests(): number {
    return this.cache.requests;
  }

  /** Modules whose lists are cached now (bounded by METADATA_CACHE_ENTRIES). */
  get cached(): number {
    return this.cache.size;
  }

  lists(moduleApiName: string): Promise<RelatedListMeta[]> {
    return this.cache.get(moduleApiName);
  }

  /** The entry of one related list, or undefined when the module has no such list. */
  async list(moduleApiName: string, relatedListApiName: string): Promise<RelatedListMeta | undefined> {
    return (await this.lists(moduleApiName)).find((l) => l.api_name === relatedListApiName);
  }

  /** The module a related list's records belong to, or undefined when unknown. */
  async targetModule(moduleApiName: string, relatedListApiName: string): Promise<string | null | undefined> {
    return (await this.list(moduleApiName, relatedListApiName))?.module;
  }

  private async fetch(moduleApiName: string, signal: AbortSignal): Promise<RelatedListMeta[]> {
    const { body } = await this.client.get(crmPath({ literal: "settings" }, { literal: "related_lists" }), {
      searchParams: { module: moduleApiName },
      signal,
    });
    const raw = Array.isArray(body?.related_lists) ? (body.related_lists as Array<Record<string, unknown>>) : [];
    return raw
      .map((l) => {
        const module = l.module as { api_name?: unknown } | null | undefined;
        return {
          api_name: String(l.api_name ?? ""),
          display_label: String(l.display_label ?? l.name ?? l.api_name ?? ""),
          module: typeof module?.api_name === "string" ? module.api_name : null,
          type: String(l.type ?? "default"),
          status: String(l.status ?? "visible"),
          href: typeof l.href === "string" ? l.href : null,
          sequence_number: Number(l.sequence_number ?? 0),
          fields: fieldNames(l.fields),
        };
      })
      .filter((l) => l.api_name)
      .sort((a, b) => a.sequence_number - b.sequence_number);
  }
}

/**
 * What fields a module has, and which of them the CRM shows when its records sit in another
 * record's related list: field metadata (`GET /settings/fields`) and the Modules API's
 * `related_list_properties` (`GET /settings/modules/{module}`), each cached like the related lists.
 * While one is refused (missing ZohoCRM.settings.fields.READ or ZohoCRM.settings.modules.READ, a
 * module the API does not serve) callers fall back to the next source of default fields.
 */
export class FieldCatalog {
  private readonly cache: MetadataCache<FieldMeta[]>;
  private readonly columns: MetadataCache<string[] | null>;

  constructor(private readonly client: ZohoClient) {
    this.cache = new MetadataCache((module, signal) => this.fetch(module, signal));
    this.columns = new MetadataCache((module, signal) => this.fetchColumns(module, signal));
  }

  get requests(): number {
    return this.cache.requests + this.columns.requests;
  }

  /** Entries cached now, fields and columns together (each bounded by METADATA_CACHE_ENTRIES). */
  get cached(): number {
    return this.cache.size + this.columns.size;
  }

  fields(moduleApiName: string): Promise<FieldMeta[]> {
    return this.cache.get(moduleApiName);
  }

  /** The module's related-list columns, or null when the Modules API names none. */
  relatedListColumns(moduleApiName: string): Promise<string[] | null> {
    return this.columns.get(moduleApiName);
  }

  private async fetchColumns(moduleApiName: string, signal: AbortSignal): Promise<string[] | null> {
    const { body } = await this.client.get(crmPath({ literal: "settings" }, { literal: "modules" }, { apiName: moduleApiName }), { signal });
    const module = Array.isArray(body?.modules) ? (body.modules[0] as { related_list_properties?: { fields?: unknown } } | undefined) : undefined;
    return fieldNames(module?.related_list_properties?.fields);
  }

  private async fetch(moduleApiName: string, signal: AbortSignal): Promise<FieldMeta[]> {
    const { body } = await this.client.get(crmPath({ literal: "settings" }, { literal: "fields" }), {
      searchParams: { module: moduleApiName },
      signal,
    });
    const raw = Array.isArray(body?.fields) ? (body.fields as Array<Record<string, unknown>>) : [];
    return raw
      .filter((f) => typeof f.api_name === "string" && f.api_name)
      .map((f) => ({ api_name: String(f.api_name), data_type: String(f.data_type ?? ""), system_mandatory: f.system_mandatory === true }));
  }
}

/** One module as the Modules API names it: its API name, its internal name (web addresses) and labels. */
export interface ModuleMeta {
  api_name: string;
  /** Zoho's internal name, which the CRM's web addresses use: `Potentials` for Deals, `CustomModule3`. */
  module_name: string;
  singular_label: string;
  plural_label: string;
}

/** The org's part of `GET /crm/v7/org`: what its web addresses are built from. */
export interface OrgMeta {
  /** The org's web name, `org74822955` unless the admin chose one: `https://crm.zoho.com/crm/{domain_name}/...`. */
  domain_name: string | null;
  zgid: string | null;
}

/**
 * The org's own modules (`GET /settings/modules`), custom modules included, for completions and
 * for names as people write them; and the org itself (`GET /org`), for web addresses. Cached like
 * the rest of the metadata; refused without ZohoCRM.settings.modules.READ (ZohoCRM.org.READ).
 */
export class ModuleCatalog {
  private readonly cache: MetadataCache<ModuleMeta[]>;
  private readonly orgCache: MetadataCache<OrgMeta>;

  constructor(private readonly client: ZohoClient) {
    this.cache = new MetadataCache((_, signal) => this.fetch(signal));
    this.orgCache = new MetadataCache((_, signal) => this.fetchOrg(signal));
  }

  async names(): Promise<string[]> {
    return (await this.modules()).map((m) => m.api_name);
  }

  modules(): Promise<ModuleMeta[]> {
    return this.cache.get("*");
  }

  org(): Promise<OrgMeta> {
    return this.orgCache.get("org");
  }

  private async fetch(signal: AbortSignal): Promise<ModuleMeta[]> {
    const { body } = await this.client.get(crmPath({ literal: "settings" }, { literal: "modules" }), { signal });
    const raw = Array.isArray(body?.modules) ? (body.modules as Array<Record<string, unknown>>) : [];
    const text = (v: unknown, fallback: string) => (typeof v === "string" && v ? v : fallback);
    // Modules the API does not serve (api_supported: false) would only answer NOT_SUPPORTED.
    return raw
      .filter((m) => typeof m.api_name === "string" && m.api_name && m.api_supported !== false)
      .map((m) => {
        const api = String(m.api_name);
        return { api_name: api, module_name: text(m.module_name, api), singular_label: text(m.singular_label, api), plural_label: text(m.plural_label, api) };
      });
  }

  private async fetchOrg(signal: AbortSignal): Promise<OrgMeta> {
    const { body } = await this.client.get(crmPath({ literal: "org" }), { signal });
    const org = Array.isArray(body?.org) ? (body.org[0] as Record<string, unknown> | undefined) : undefined;
    const text = (v: unknown) => (typeof v === "string" && v ? v : typeof v === "number" ? String(v) : null);
    return { domain_name: text(org?.domain_name), zgid: text(org?.zgid) };
  }
}

/** A related list's `fields`: Zoho sends `[{api_name, id}]`; plain strings are accepted too. */
function fieldNames(raw: unknown): string[] | null {
  if (!Array.isArray(raw)) return null;
  const names = raw
    .map((f: unknown) => (typeof f === "string" ? f : typeof (f as { api_name?: unknown })?.api_name === "string" ? (f as { api_name: string }).api_name : ""))
    .filter((f) => f !== "");
  return names.length ? names : null;
}
