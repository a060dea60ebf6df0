import { crmPath, type ZohoClient } from "./client.js";
import { InputError, ZohoError } from "./errors.js";
import { RELATED_RECORDS_READER, type ListReader, type PageStart, type RelatedPage, type RelatedQuery, type WalkOptions, type WalkResult, type ZohoRecord } from "./related-records.js";

/**
 * The Emails related list. `GET /crm/v7/{module}/{id}/Emails` looks like Get Related Records but is
 * Zoho's "Get Emails of a Record" API: the records come under `Emails` (not `data`), each identified
 * by `message_id` (no `id`), ten per call, paged by `index` with `info.next_index` / `prev_index`
 * (no page, per_page, page_token, sort, ids, converted or If-Modified-Since). Sources: Zoho's
 * get-email-rel-list page and the SDKs' email_related_records models (ResponseWrapper, Email, Info).
 */
export const EMAILS_LIST = "Emails";
/** Zoho's fixed page of the Emails API: it takes no per_page. */
export const EMAILS_PER_CALL = 10;

export function isEmailsList(relatedListApiName: string): boolean {
  return relatedListApiName === EMAILS_LIST;
}

/** Parameters of Get Related Records that the Emails API does not take, refused before any request. */
const NOT_FOR_EMAILS = ["page", "per_page", "ids", "sort_order", "sort_by", "converted", "if_modified_since"] as const;

/** Refuses what Zoho's Emails API cannot do, naming the field: silently ignoring it would mislead. */
export function checkEmailsQuery(args: Partial<Record<(typeof NOT_FOR_EMAILS)[number], unknown>>): void {
  const given = NOT_FOR_EMAILS.filter((k) => args[k] !== undefined);
  if (given.length) {
    throw new InputError(
      `${given.join(", ")}: the Emails list does not take ${given.length === 1 ? "this parameter" : "these parameters"} (Zoho's Get Emails API pages ten emails at a time by index; pass the previous result's next_page_token as page_token)`,
    );
  }
}

/**
 * The Emails list's own filters, checked before any request (Zoho's get-email-rel-list page):
 * `type` and `owner_id` belong to the Emails list only; `owner_id` works only with
 * type=user_emails; the all_contacts_ types are the Accounts module's.
 */
export function checkEmailsFilters(args: { type?: string | undefined; owner_id?: string | undefined }, parentModule: string, relatedListApiName: string): void {
  const given = (["type", "owner_id"] as const).filter((k) => args[k] !== undefined);
  if (!given.length) return;
  if (!isEmailsList(relatedListApiName)) {
    throw new InputError(`${given.join(", ")}: only the Emails list takes ${given.length === 1 ? "this filter" : "these filters"} (Zoho's Get Emails of a Record); ${relatedListApiName} does not`);
  }
  if (args.owner_id !== undefined && args.type !== "user_emails") {
    throw new InputError(`owner_id: Zoho takes it only with type "user_emails" (whose synced mailbox to read); give type "user_emails" too`);
  }
  if (args.type?.startsWith("all_contacts_") && parentModule !== "Accounts") {
    throw new InputError(`type: ${args.type} reads the emails of an account's contacts, so it is for Accounts only, not ${parentModule}`);
  }
}

/** An email as a record: Zoho's fields as sent, with `id` = `message_id` so every record has an id. */
function asRecord(email: Record<string, unknown>): ZohoRecord | undefined {
  const id = email.message_id;
  if (typeof id !== "string" || !id) return undefined;
  return { ...email, id };
}

/** One call of Get Emails of a Record; `page_token` carries Zoho's `index`. */
export async function getEmailsPage(client: ZohoClient, q: RelatedQuery, signal?: AbortSignal): Promise<RelatedPage> {
  const path = crmPath({ apiName: q.module_api_name }, { recordId: q.record_id }, { literal: EMAILS_LIST });
  const { status, body } = await client.get(path, { signal, searchParams: { type: q.type, owner_id: q.owner_id, index: q.page_token } });
  const none = { records: [], more_records: false, next_page_token: null, previous_page_token: null, page_token_expiry: null };
  if (status === 304) return { ...none, not_modified: true };
  if (!body) return { ...none, not_modified: false };
  const emails = body.Emails;
  if (!Array.isArray(emails)) throw new ZohoError({ status, code: "INVALID_RESPONSE", message: "Zoho's Emails answer has no Emails array" });
  const info = (body.info ?? {}) as Record<string, unknown>;
  const index = (v: unknown) => (typeof v === "string" && v ? v : typeof v === "number" ? String(v) : null);
  const next = index(info.next_index);
  return {
    records: emails.map((e) => asRecord(e as Record<string, unknown>)).filter((r): r is ZohoRecord => r !== undefined),
    more_records: info.more_records === true && next !== null,
    next_page_token: info.more_records === true ? next : null,
    previous_page_token: index(info.prev_index),
    page_token_expiry: null,
    not_modified: false,
  };
}

/** Auto-pagination over Emails: one index after another (each answer names the next). */
export async function walkEmails(client: ZohoClient, q: RelatedQuery, opts: WalkOptions): Promise<WalkResult> {
  const { maxRecords, signal } = opts;
  const records: ZohoRecord[] = [];
  let requests = 0;
  let token: string | undefined;
  // Where each page fetched by index starts, for "print the rest from here" (the first page has no index).
  const pages: PageStart[] = [];
  let page = await getEmailsPage(client, { ...q, page_token: undefined }, signal);
  for (;;) {
    requests++;
    if (token) pages.push({ first: records.length, page_token: token });
    records.push(...page.records);
    opts.onProgress?.(Math.min(records.length, maxRecords), maxRecords);
    if (!page.more_records || !page.next_page_token || records.length >= maxRecords) break;
    token = page.next_page_token;
    page = await getEmailsPage(client, { ...q, page_token: token }, signal);
  }
  const truncated = records.length > maxRecords;
  const skip = page.records.length - (records.length - maxRecords);
  return {
    records: truncated ? records.slice(0, maxRecords) : records,
    more_records: truncated || page.more_records,
    next_page_token: truncated ? null : page.next_page_token,
    previous_page_token: page.previous_page_token,
    page_token_expiry: null,
    not_modified: false,
    truncated,
    // A cut page is read again from the index that fetched it; the first page has none (raise max_records instead).
    resume: truncated && token ? { page_token: token, skip } : null,
    per_page: EMAILS_PER_CALL,
    requests,
    pages,
  };
}

/** The Emails list's reader: Zoho's Emails API, ten at a time by index. */
export const EMAILS_READER: ListReader = { page: getEmailsPage, walk: walkEmails };

/** The reader of a related list, chosen once per query: the Emails API or Get Related Records. */
export function listReader(relatedListApiName: string): ListReader {
  return isEmailsList(relatedListApiName) ? EMAILS_READER : RELATED_RECORDS_READER;
}
