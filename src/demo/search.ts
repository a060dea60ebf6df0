// The demo CRM's Search Records (`GET /crm/v7/{module}/search`), as Zoho's v7 page, its SDKs'
// SearchRecordsParam and Kaizen #82 (Search Records API) describe it: one of criteria, email,
// phone, word (Zoho takes the first of them in that order when several are sent), converted and
// approved, page and per_page up to record 2000, `fields`, and 204 when nothing matches.
//
// Never write to stdout here: in demo mode the MCP server shares the process and stdout is JSON-RPC.

import type { DemoRecord } from "./seed.js";
import { fieldsOf } from "./schema.js";

/** Zoho's documented limit: at most ten conditions in one criteria. */
const MAX_CONDITIONS = 10;
const OPERATORS = new Set(["equals", "not_equal", "starts_with", "in", "greater_than", "greater_equal", "less_than", "less_equal", "between"]);

export class SearchError extends Error {
  constructor(readonly code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
  }
}

interface Condition { field: string; operator: string; values: string[] }
type Node = Condition | { op: "and" | "or"; left: Node; right: Node };

/**
 * `((Last_Name:equals:Dylan)and(Email:starts_with:brian))`: a condition is `(field:operator:value)`;
 * `(`, `)` and `,` inside a value are escaped with a backslash (`,` separates the values of `in` and
 * `between`). Anything else is INVALID_QUERY, as on Zoho.
 */
export function parseCriteria(text: string): Node {
  let at = 0;
  let conditions = 0;
  const invalid = (reason: string) => new SearchError("INVALID_QUERY", "invalid query formed", { reason });
  const space = () => { while (text[at] === " ") at++; };
  const expect = (c: string) => { space(); if (text[at] !== c) throw invalid(`expected ${c} at position ${at}`); at++; };

  function group(): Node {
    expect("(");
    space();
    let node: Node;
    if (text[at] === "(") {
      node = group();
      for (;;) {
        space();
        const word = /^(and|or)\b/i.exec(text.slice(at));
        if (!word) break;
        at += word[0].length;
        node = { op: word[1]!.toLowerCase() as "and" | "or", left: node, right: group() };
      }
    } else {
      node = condition();
    }
    expect(")");
    return node;
  }

  function condition(): Condition {
    const head = /^([A-Za-z$][\w$.]*):([a-z_]+):/.exec(text.slice(at));
    if (!head) throw invalid(`expected field:operator:value at position ${at}`);
    const [, field, operator] = head as unknown as [string, string, string];
    if (!OPERATORS.has(operator)) throw new SearchError("INVALID_QUERY", "invalid query formed", { reason: "invalid operator found", operator, api_name: field });
    at += head[0].length;
    const values: string[] = [];
    let value = "";
    for (;;) {
      const c = text[at];
      if (c === undefined) throw invalid("unclosed condition");
      if (c === "\\" && at + 1 < text.length) { value += text[at + 1]; at += 2; continue; }
      if (c === ")") break;
      if (c === "(") throw invalid(`unescaped ( in the value of ${field}`);
      if (c === ",") {
        if (operator !== "in" && operator !== "between") throw invalid(`unescaped , in the value of ${field}`);
        values.push(value);
        value = "";
        at++;
        continue;
      }
      value += c;
      at++;
    }
    values.push(value);
    if (++conditions > MAX_CONDITIONS) throw new SearchError("LIMIT_EXCEEDED", `the criteria has more than ${MAX_CONDITIONS} conditions`, { limit: MAX_CONDITIONS });
    if (operator === "between" && values.length !== 2) throw invalid("between takes two values");
    return { field, operator, values };
  }

  // A single condition may come without its outer group's own parentheses: (Email:equals:x).
  const node = group();
  space();
  if (at !== text.length) throw invalid(`unexpected text at position ${at}`);
  return node;
}

/** A field's value as text to compare: lookups and users by name (or id), numbers as numbers. */
function valuesOf(record: DemoRecord, field: string): unknown[] {
  const v = field === "id" ? record.id : record.data[field];
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    return [o.name, o.id].filter((x) => x !== undefined && x !== null);
  }
  return [v];
}

function compare(actual: unknown, wanted: string): number {
  if (typeof actual === "number") return actual - Number(wanted);
  const a = String(actual ?? "");
  const ta = Date.parse(a), tw = Date.parse(wanted);
  if (!Number.isNaN(ta) && !Number.isNaN(tw) && /^\d{4}-\d{2}-\d{2}/.test(a)) return ta - tw;
  return a.toLowerCase().localeCompare(wanted.toLowerCase());
}

function holds(c: Condition, record: DemoRecord): boolean {
  const actual = valuesOf(record, c.field);
  const [first = ""] = c.values;
  const any = (test: (v: unknown) => boolean) => actual.some((v) => v !== null && v !== undefined && test(v));
  switch (c.operator) {
    case "equals": return any((v) => compare(v, first) === 0);
    case "not_equal": return !any((v) => compare(v, first) === 0);
    case "starts_with": return any((v) => String(v).toLowerCase().startsWith(first.toLowerCase()));
    case "in": return any((v) => c.values.some((w) => compare(v, w) === 0));
    case "greater_than": return any((v) => compare(v, first) > 0);
    case "greater_equal": return any((v) => compare(v, first) >= 0);
    case "less_than": return any((v) => compare(v, first) < 0);
    case "less_equal": return any((v) => compare(v, first) <= 0);
    case "between": return any((v) => compare(v, first) >= 0 && compare(v, c.values[1] ?? "") <= 0);
    default: return false;
  }
}

function evaluate(node: Node, record: DemoRecord): boolean {
  if ("field" in node) return holds(node, record);
  return node.op === "and" ? evaluate(node.left, record) && evaluate(node.right, record) : evaluate(node.left, record) || evaluate(node.right, record);
}

function checkFields(node: Node, module: string): void {
  if (!("field" in node)) return void (checkFields(node.left, module), checkFields(node.right, module));
  const known = node.field === "id" || fieldsOf(module).some((f) => f.api_name === node.field);
  if (!known) throw new SearchError("INVALID_QUERY", "invalid query formed", { reason: "the field is not available for search", api_name: node.field });
}

/** The digits of a phone number: Zoho matches phone searches on them, whatever the formatting. */
const digits = (s: string) => s.replace(/\D/g, "");

/** A predicate for the one search Zoho runs: the first of criteria, email, phone, word. */
export function searchPredicate(module: string, q: URLSearchParams): (record: DemoRecord) => boolean {
  const fields = fieldsOf(module);
  const ofType = (type: string) => fields.filter((f) => f.data_type === type).map((f) => f.api_name);
  const criteria = q.get("criteria");
  if (criteria !== null) {
    const node = parseCriteria(criteria);
    checkFields(node, module);
    return (r) => evaluate(node, r);
  }
  const email = q.get("email");
  if (email !== null) {
    const wanted = email.trim().toLowerCase();
    const emails = ofType("email");
    return (r) => emails.some((f) => typeof r.data[f] === "string" && (r.data[f] as string).toLowerCase() === wanted);
  }
  const phone = q.get("phone");
  if (phone !== null) {
    const wanted = digits(phone);
    if (wanted.length < 3) throw new SearchError("INVALID_DATA", "the given phone is invalid", { param_name: "phone" });
    const phones = ofType("phone");
    return (r) => phones.some((f) => typeof r.data[f] === "string" && digits(r.data[f] as string).endsWith(wanted));
  }
  const word = q.get("word");
  if (word !== null) {
    const terms = word.toLowerCase().split(/\s+/).filter(Boolean);
    // Zoho refuses a word of fewer than two characters.
    if (word.trim().length < 2) throw new SearchError("INVALID_DATA", "the given word is invalid", { param_name: "word" });
    // Every term starts a word of some text value of the record (names, company, email, lookups).
    return (r) => {
      const text = Object.entries(r.data)
        .filter(([k]) => !k.startsWith("$") && !["Owner", "Created_By", "Modified_By"].includes(k))
        .flatMap(([, v]) => (v && typeof v === "object" ? [(v as { name?: unknown }).name] : [v]))
        .filter((v): v is string => typeof v === "string")
        .join(" ")
        .toLowerCase();
      const words = text.split(/[^\p{L}\p{N}@.+-]+/u);
      return terms.every((t) => words.some((w) => w.startsWith(t)));
    };
  }
  throw new SearchError("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", { param: ["criteria", "email", "phone", "word"] });
}
