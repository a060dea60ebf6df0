import { crmPath, type ZohoClient } from "./client.js";

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
}

/** Metadata changes when an admin edits a layout: rarely, but a long-lived server should notice. */
const TTL_MS = 10 * 60_000;

/**
 * Related List Metadata, cached per module for ten minutes. Concurrent askers share one request;
 * a failed request is not cached, so a missing scope can be fixed without a restart.
 */
export class RelatedListCatalog {
  private readonly cache = new Map<string, { at: number; lists: Promise<RelatedListMeta[]> }>();
  requests = 0;

  constructor(private readonly client: ZohoClient) {}

  async lists(moduleApiName: string): Promise<RelatedListMeta[]> {
    const hit = this.cache.get(moduleApiName);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.lists;
    // Not tied to one caller's AbortSignal: the answer is shared with every later caller.
    const lists = this.fetch(moduleApiName);
    this.cache.set(moduleApiName, { at: Date.now(), lists });
    lists.catch(() => this.cache.delete(moduleApiName));
    return lists;
  }

  /** The module a related list's records belong to, or undefined when unknown. */
  async targetModule(moduleApiName: string, relatedListApiName: string): Promise<string | null | undefined> {
    const lists = await this.lists(moduleApiName);
    return lists.find((l) => l.api_name === relatedListApiName)?.module;
  }

  private async fetch(moduleApiName: string): Promise<RelatedListMeta[]> {
    this.requests++;
    const { body } = await this.client.get(crmPath({ literal: "settings" }, { literal: "related_lists" }), {
      searchParams: { module: moduleApiName },
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
        };
      })
      .filter((l) => l.api_name)
      .sort((a, b) => a.sequence_number - b.sequence_number);
  }
}
