import { crmPath, type ZohoClient } from "./client.js";
import { ZohoError } from "./errors.js";

export type ZohoRecord = Record<string, unknown> & { id: string };

/** Get Related Records, in Zoho's own parameter names. */
export interface RelatedQuery {
  module_api_name: string;
  record_id: string;
  related_list_api_name: string;
  fields: string[];
  page?: number | undefined;
  per_page?: number | undefined;
  page_token?: string | undefined;
  ids?: string[] | undefined;
  sort_order?: "asc" | "desc" | undefined;
  sort_by?: "id" | "Created_Time" | "Modified_Time" | undefined;
  converted?: "true" | "false" | "both" | undefined;
  if_modified_since?: string | undefined;
  /** The Emails list's own filters (Zoho's Get Emails of a Record): not sent to any other list. */
  type?: EmailsType | undefined;
  owner_id?: string | undefined;
}

/** Get Emails of a Record's `type` values (Zoho's get-email-rel-list page; the all_contacts_ ones for Accounts). */
export const EMAILS_TYPES = [
  "sent_from_crm", "scheduled_in_crm", "drafts", "user_emails",
  "all_contacts_sent_crm_emails", "all_contacts_scheduled_crm_emails", "all_contacts_draft_crm_emails",
] as const;
export type EmailsType = (typeof EMAILS_TYPES)[number];

export interface RelatedPage {
  records: ZohoRecord[];
  more_records: boolean;
  next_page_token: string | null;
  /** Zoho's token for the page before this one (info.previous_page_token), or null. */
  previous_page_token: string | null;
  /** When Zoho's page tokens of this answer expire (info.page_token_expiry, Zoho's time format), or null. */
  page_token_expiry: string | null;
  /** HTTP 304: nothing changed since If-Modified-Since. */
  not_modified: boolean;
}

const NO_TOKENS = { next_page_token: null, previous_page_token: null, page_token_expiry: null };

/** Past this position Zoho serves records by page_token only (DISCRETE_PAGINATION_LIMIT_EXCEEDED). */
export const DISCRETE_LIMIT = 2000;
export const MAX_PER_PAGE = 200;

/**
 * How one kind of related list is read: one page, or a walk up to max_records. Get Related Records
 * is one reader (here); the Emails list, an API of its own behind the same URL form, is the other
 * (emails.ts). The caller picks the reader once, with `listReader` (emails.ts).
 */
export interface ListReader {
  page(client: ZohoClient, q: RelatedQuery, signal?: AbortSignal): Promise<RelatedPage>;
  walk(client: ZohoClient, q: RelatedQuery, opts: WalkOptions): Promise<WalkResult>;
}

/** One request of Get Related Records. 204 is an empty page, 304 is "not modified": neither fails. */
export async function getRelatedRecordsPage(client: ZohoClient, q: RelatedQuery, signal?: AbortSignal): Promise<RelatedPage> {
  const path = crmPath({ apiName: q.module_api_name }, { recordId: q.record_id }, { apiName: q.related_list_api_name });
  const { status, body } = await client.get(path, {
    signal,
    searchParams: {
      fields: q.fields.join(","),
      page: q.page,
      per_page: q.per_page,
      page_token: q.page_token,
      ids: q.ids?.join(","),
      sort_order: q.sort_order,
      sort_by: q.sort_by,
      converted: q.converted,
    },
    headers: { "If-Modified-Since": q.if_modified_since },
  });
  if (status === 304) return { records: [], more_records: false, ...NO_TOKENS, not_modified: true };
  if (!body) return { records: [], more_records: false, ...NO_TOKENS, not_modified: false };
  const data = body.data;
  const info = (body.info ?? {}) as Record<string, unknown>;
  if (!Array.isArray(data)) {
    throw new ZohoError({ status, code: "INVALID_RESPONSE", message: "Zoho's answer has no data array" });
  }
  return {
    records: data as ZohoRecord[],
    more_records: info.more_records === true,
    next_page_token: nonEmpty(info.next_page_token),
    previous_page_token: nonEmpty(info.previous_page_token),
    page_token_expiry: nonEmpty(info.page_token_expiry),
    not_modified: false,
  };
}

function nonEmpty(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

export interface WalkPlan {
  perPage: number;
  /** Last page fetched by number; the rest of the walk follows next_page_token. */
  lastDiscretePage: number;
}

/**
 * How to walk a related list for `maxRecords`: pages by number up to record 2000 (started together,
 * the concurrency cap queues them), then page tokens, one after another because each names the next.
 * Always the largest page Zoho serves (fewer when fewer records are wanted): Zoho bills every
 * request, and a per_page of 10 would have made 200 requests of 2,000 records.
 */
export function planWalk(maxRecords: number): WalkPlan {
  const size = Math.min(MAX_PER_PAGE, maxRecords);
  return {
    perPage: size,
    lastDiscretePage: Math.max(1, Math.min(Math.ceil(maxRecords / size), Math.floor(DISCRETE_LIMIT / size))),
  };
}

export interface WalkResult {
  records: ZohoRecord[];
  more_records: boolean;
  /** Continue from here with page_token (same fields, per_page, sort and filters); null at the end, or when the walk cut a numbered page short. */
  next_page_token: string | null;
  previous_page_token: string | null;
  page_token_expiry: string | null;
  not_modified: boolean;
  /** Records the walk fetched but left out to honour max_records. */
  truncated: boolean;
  /** When truncated: the last page again (by token, or by number below record 2000), less the `skip` records already returned. */
  resume: { page_token: string; skip: number } | { page: number; skip: number } | null;
  per_page: number;
  requests: number;
  /** How each page was fetched, in order, with the index of its first record: where to pick up a record again. */
  pages: PageStart[];
}

export type PageStart = { first: number } & ({ page: number } | { page_token: string });

export interface WalkOptions {
  maxRecords: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((fetched: number, target: number) => void) | undefined;
}

/**
 * Pages 1..lastPage by number, `width` at a time: each worker takes the next page when its last one
 * is in. Page 1 does not go first alone (that would add a round trip: four rounds instead of three
 * for 2,000 records at the default cap of 4). A page is only started after the page before it in
 * that worker has answered, so once a page says `more_records: false`, no later page starts and the
 * ones in flight are cancelled: a short list costs at most width - 1 extra requests (none at width
 * 1). Returns the pages up to that last one, in order. Get Related Records and Search Records both
 * walk this way.
 */
export async function walkNumberedPages<P extends { more_records: boolean }>(
  lastPage: number,
  width: number,
  fetchPage: (page: number, signal: AbortSignal) => Promise<P>,
  signal?: AbortSignal,
): Promise<P[]> {
  let nextPage = 1;
  const byPage = new Map<number, P>();
  const inFlight = new Map<number, AbortController>();
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (failure === undefined && nextPage <= lastPage) {
      const page = nextPage++;
      const controller = new AbortController();
      inFlight.set(page, controller);
      try {
        const result = await fetchPage(page, signal ? AbortSignal.any([signal, controller.signal]) : controller.signal);
        byPage.set(page, result);
        if (!result.more_records && page < lastPage) {
          lastPage = page;
          for (const [p, c] of inFlight) if (p > page) c.abort();
        }
      } catch (error) {
        if (page > lastPage && !signal?.aborted) continue; // cancelled by us: past the end
        failure ??= error;
        for (const c of inFlight.values()) c.abort(); // the walk has failed: spend no more credits
      } finally {
        inFlight.delete(page);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, lastPage)) }, worker));
  if (failure !== undefined) throw failure;
  const pages: P[] = [];
  for (let page = 1; page <= lastPage; page++) {
    const result = byPage.get(page);
    if (result) pages.push(result);
  }
  return pages;
}

/** Auto-pagination: fetch until max_records or the end of the list, within Zoho's rules. */
export async function walkRelatedRecords(client: ZohoClient, q: RelatedQuery, opts: WalkOptions): Promise<WalkResult> {
  const { maxRecords, signal } = opts;
  const plan = planWalk(maxRecords);
  const base: RelatedQuery = { ...q, page: undefined, page_token: undefined, per_page: plan.perPage };
  let requests = 0;
  let fetched = 0;
  const progress = (n: number) => {
    fetched += n;
    opts.onProgress?.(Math.min(fetched, maxRecords), maxRecords);
  };

  const pages: RelatedPage[] = await walkNumberedPages(plan.lastDiscretePage, client.concurrency, async (page, pageSignal) => {
    const result = await getRelatedRecordsPage(client, { ...base, page }, pageSignal);
    requests++;
    progress(result.records.length);
    return result;
  }, signal);
  const first = pages[0]!;
  const starts: PageStart[] = pages.map((_, i) => ({ first: i * plan.perPage, page: i + 1 }));

  // Beyond record 2000 (or the last discrete page) only page_token works, never beside `page`.
  let last = pages[pages.length - 1]!;
  let lastToken: string | undefined;
  let total = pages.reduce((n, p) => n + p.records.length, 0);
  while (last.more_records && last.next_page_token && total < maxRecords) {
    lastToken = last.next_page_token;
    starts.push({ first: total, page_token: lastToken });
    last = await getRelatedRecordsPage(client, { ...base, page_token: lastToken }, signal);
    requests++;
    progress(last.records.length);
    pages.push(last);
    total += last.records.length;
  }

  const all = pages.flatMap((p) => p.records);
  const truncated = all.length > maxRecords;
  // A page cut short to honour max_records has no token of its own to continue from: the way on is
  // to fetch that page again (by its token, or by number below record 2000) and skip what was shown.
  const skip = last.records.length - (all.length - maxRecords);
  const resume = !truncated ? null : lastToken ? { page_token: lastToken, skip } : { page: pages.length, skip };
  return {
    records: truncated ? all.slice(0, maxRecords) : all,
    more_records: truncated || last.more_records,
    next_page_token: truncated ? null : last.next_page_token,
    previous_page_token: last.previous_page_token,
    page_token_expiry: last.page_token_expiry,
    not_modified: first.not_modified,
    truncated,
    resume,
    per_page: plan.perPage,
    requests,
    pages: starts,
  };
}

/** The reader of every list but Emails. */
export const RELATED_RECORDS_READER: ListReader = { page: getRelatedRecordsPage, walk: walkRelatedRecords };
