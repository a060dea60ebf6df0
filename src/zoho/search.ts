import { crmPath, type ZohoClient } from "./client.js";
import { InputError, ZohoError } from "./errors.js";
import { walkNumberedPages, type ZohoRecord } from "./related-records.js";

/**
 * Zoho's Search Records API, `GET /crm/v7/{module_api_name}/search` (the v7 Search Records page, the
 * SDKs' SearchRecordsParam: criteria, email, phone, word, converted, approved, page, per_page,
 * fields). One kind of search per request: sent several, Zoho uses the first of criteria, email,
 * phone, word, so the tool takes exactly one. Pages of at most 200 records, reachable up to record
 * 2,000 (the rest needs COQL). No match is HTTP 204. Scope: ZohoCRM.modules.ALL, or
 * ZohoCRM.modules.{module}.READ (ZohoCRM.modules.READ covers every module).
 */
export const SEARCH_KINDS = ["word", "email", "phone", "criteria"] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

/** Zoho's documented ceilings: ten conditions in one criteria, records 1..2,000 by page. */
export const MAX_CONDITIONS = 10;
export const SEARCH_LIMIT = 2000;
export const SEARCH_PER_PAGE = 200;

/**
 * The comparators Zoho's search criteria take (v7 page; Kaizen #82 lists which field types take
 * which): text fields take equals, not_equal, starts_with and in; numbers and dates also the
 * ordering ones and between.
 */
export const CRITERIA_OPERATORS = ["equals", "not_equal", "starts_with", "in", "greater_than", "greater_equal", "less_than", "less_equal", "between"] as const;

/** Operators whose value is a comma-separated list: their commas separate, all others are escaped. */
const LIST_OPERATORS = new Set(["in", "between"]);

const CONDITION_HEAD = /^\(\s*([A-Za-z$][\w$.]{0,100})\s*:\s*([A-Za-z_]+)\s*:/;

/**
 * A value holding `and Field:operator:` (or `or ...`): two conditions written without their
 * parentheses, `Last_Name:equals:Dylan and Email:starts_with:b`, which Zoho would read as one
 * last name. Refused rather than sent.
 */
const JOINED_CONDITION = new RegExp(`\\s(and|or)\\s+([A-Za-z$][\\w$.]{0,100}\\s*:\\s*(?:${CRITERIA_OPERATORS.join("|")})\\s*:)`, "i");

/**
 * Zoho's criteria, checked and made safe to send: `(Field:operator:value)` conditions joined by
 * `and` / `or` in parentheses. At most ten conditions, each with an operator Zoho takes (refused
 * before any request, naming the field). Inside a value, `(`, `)` and `,` (other than the
 * separators of `in` and `between`) are escaped with a backslash, as Zoho requires: people write
 * `(Account_Name:equals:Zylker (US))`, Zoho needs `Zylker \(US\)`. Values already escaped stay as
 * they are. The whole is URL-encoded when sent.
 */
export function prepareCriteria(text: string): string {
  const refuse = (why: string) => new InputError(`criteria: ${why}. Zoho's form: ((Last_Name:equals:Dylan)and(Email:starts_with:brian)), at most ${MAX_CONDITIONS} conditions, operators ${CRITERIA_OPERATORS.join(", ")}`);
  const trimmed = text.trim();
  if (!trimmed) throw refuse("is empty");
  // A bare condition (Email:equals:x) without parentheses: add them. Positions in messages are
  // counted in the text as given, so they leave out the ( added here and the spaces trimmed.
  const bare = !trimmed.startsWith("(");
  const source = bare ? `(${trimmed})` : trimmed;
  const lead = text.length - text.trimStart().length - (bare ? 1 : 0);
  const position = (index: number) => index + lead + 1;
  // Where the ( added to a bare criteria is closed: a ) there, before the end, is the unmatched one.
  let addedClosedAt: number | undefined;
  let out = "";
  let depth = 0;
  let conditions = 0;
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at);
    const head = CONDITION_HEAD.exec(rest);
    if (head) {
      const [whole, field, operator] = head as unknown as [string, string, string];
      if (!(CRITERIA_OPERATORS as readonly string[]).includes(operator)) throw refuse(`${field} has the operator ${operator}, which Zoho's search does not take`);
      if (++conditions > MAX_CONDITIONS) throw refuse(`has more than ${MAX_CONDITIONS} conditions`);
      const start = at;
      at += whole.length;
      const { value, end } = readValue(source, at, LIST_OPERATORS.has(operator), field, position);
      if (value.trim() === "") throw refuse(`${field} has no value`);
      const joined = JOINED_CONDITION.exec(source.slice(at, end));
      if (joined) throw refuse(`the value of ${field} holds "${joined[1]}" and a second condition (${joined[2]} at position ${position(at + joined.index + joined[0].indexOf(joined[2]!))}): put each condition in its own parentheses`);
      out += `(${field}:${operator}:${value.trim()})`;
      if (bare && start === 0 && depth === 0) addedClosedAt = end;
      at = end + 1; // past the condition's closing parenthesis
      continue;
    }
    const c = source[at]!;
    if (c === "(") {
      depth++;
      out += c;
      at++;
    } else if (c === ")") {
      if (--depth < 0) throw refuse(`has a ) without its ( at position ${position(bare && at === source.length - 1 && addedClosedAt !== undefined ? addedClosedAt : at)}`);
      if (bare && depth === 0 && addedClosedAt === undefined) addedClosedAt = at;
      out += c;
      at++;
    } else if (/^\s/.test(c)) {
      at++;
    } else {
      const join = /^(and|or)\b/i.exec(rest);
      if (!join) throw refuse(`expected a condition (Field:operator:value), and or or at position ${position(at)}`);
      out += join[1]!.toLowerCase();
      at += join[0].length;
    }
  }
  if (depth !== 0) throw refuse("has a ( without its )");
  if (conditions === 0) throw refuse("has no condition");
  // Several conditions at the top level need their own parentheses: (a)and(b) -> ((a)and(b)).
  return /\)(and|or)\(/.test(out) && !isWrapped(out) ? `(${out})` : out;
}

/** True when the first ( closes at the very end: the whole criteria is one group. */
function isWrapped(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") { i++; continue; }
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i === text.length - 1;
  }
  return false;
}

/**
 * A condition's value, from `start` to the `)` that closes the condition: the first unescaped `)`
 * not balanced by a `(` inside the value and followed by the end, another `)`, or `and`/`or`.
 * Returns the value escaped for Zoho and the index of that `)`.
 */
function readValue(source: string, start: number, list: boolean, field: string, position: (index: number) => number): { value: string; end: number } {
  let value = "";
  let depth = 0;
  let escapedLast = false; // the value so far ends with an escaped character
  let joinAt = -1; // a ) followed by and/or with no ( after it: the likely end of the condition
  for (let i = start; i < source.length; i++) {
    const c = source[i]!;
    escapedLast = false;
    if (c === "\\" && i + 1 < source.length) {
      value += c + source[i + 1];
      escapedLast = source[i + 1] === ")";
      i++;
      continue;
    }
    if (c === "(") {
      depth++;
      value += "\\(";
      continue;
    }
    if (c === ")") {
      if (depth > 0) {
        depth--;
        value += "\\)";
        continue;
      }
      if (/^\)\s*($|\)|(and|or)\s*\()/i.test(source.slice(i))) return { value, end: i };
      if (joinAt < 0 && /^\)\s*(and|or)\b/i.test(source.slice(i))) joinAt = i;
      if (/^\)\s*(and|or)\s*\)/i.test(source.slice(i))) break; // "(a)and)": a join with nothing after it
      value += "\\)";
      continue;
    }
    value += c === "," && !list ? "\\," : c;
  }
  // Say what went wrong where it can be told, not only that a ) is missing.
  if (joinAt >= 0) {
    const join = /^\)\s*(and|or)/i.exec(source.slice(joinAt))![1]!.toLowerCase();
    throw new InputError(`criteria: "${join}" after the condition on ${field} (its ) at position ${position(joinAt)}) is followed by no (condition); remove it or add one`);
  }
  if (escapedLast) throw new InputError(`criteria: the value of ${field} ends in \\), which escapes the ) meant to close the condition; a value ending in a backslash is written \\\\ before the )`);
  throw new InputError(`criteria: the condition on ${field} has no closing )`);
}

export interface SearchQuery {
  module_api_name: string;
  kind: SearchKind;
  value: string;
  fields?: string[] | undefined;
  converted?: string | undefined;
  approved?: string | undefined;
}

export interface SearchPage {
  records: ZohoRecord[];
  more_records: boolean;
}

/** One page of Search Records; 204 (no match) is an empty page. */
export async function searchPage(client: ZohoClient, q: SearchQuery, page: number, perPage: number, signal?: AbortSignal): Promise<SearchPage> {
  const { status, body } = await client.get(crmPath({ apiName: q.module_api_name }, { literal: "search" }), {
    signal,
    searchParams: {
      [q.kind]: q.value,
      fields: q.fields?.join(","),
      converted: q.converted,
      approved: q.approved,
      page,
      per_page: perPage,
    },
  });
  if (status === 204 || !body) return { records: [], more_records: false };
  if (!Array.isArray(body.data)) throw new ZohoError({ status, code: "INVALID_RESPONSE", message: "Zoho's search answer has no data array" });
  const info = (body.info ?? {}) as { more_records?: unknown };
  return {
    records: (body.data as Array<Record<string, unknown>>).filter((r) => typeof r.id === "string" || typeof r.id === "number").map((r) => ({ ...r, id: String(r.id) }) as ZohoRecord),
    more_records: info.more_records === true,
  };
}

/**
 * Records of one module up to `maxRecords` (at most 2,000, Zoho's reach), walked as related lists
 * are (walkNumberedPages): `width` pages at a time, and no page after the one that says
 * `more_records: false` (a search across modules gives each its share of the cap: width 1 for four).
 */
export async function searchModule(client: ZohoClient, q: SearchQuery, maxRecords: number, width: number, signal?: AbortSignal): Promise<SearchPage> {
  const want = Math.min(maxRecords, SEARCH_LIMIT);
  const perPage = Math.min(SEARCH_PER_PAGE, want);
  const pages = await walkNumberedPages(Math.ceil(want / perPage), width, (page, pageSignal) => searchPage(client, q, page, perPage, pageSignal), signal);
  return trim({ records: pages.flatMap((p) => p.records), more_records: pages.at(-1)?.more_records ?? false }, want);
}

function trim(page: SearchPage, want: number): SearchPage {
  return page.records.length > want ? { records: page.records.slice(0, want), more_records: true } : page;
}
