import type { ResourceLink } from "@modelcontextprotocol/sdk/types.js";
import type { ZohoRecord } from "../zoho/related-records.js";

/**
 * Records as a model reads them best: one compact line each, only values that exist, lookups by
 * their name. Zoho's full JSON stays available in structuredContent and through the resource link.
 */

/** Long notes would crowd the summary; the full text is in structuredContent. */
const MAX_VALUE_CHARS = 300;

/** Keys every Zoho row carries that say nothing about what the row is (ids, owners, times, system flags). */
const ROW_NOISE = new Set(["id", "Parent_Id", "Owner", "Created_By", "Modified_By", "Created_Time", "Modified_Time", "Layout", "Tag"]);

/** At most this many values of one subform row are shown: enough to tell rows apart. */
const ROW_VALUES = 3;

function shorten(flat: string): string {
  return flat.length > MAX_VALUE_CHARS ? `${flat.slice(0, MAX_VALUE_CHARS - 1)}…` : flat;
}

/** A Zoho value as short text; undefined when there is nothing to show (null, "", [], {}). */
export function formatValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string") {
    const flat = value.replace(/\s+/g, " ").trim();
    return flat ? shorten(flat) : undefined;
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    const parts = value.map(formatValue).filter((v): v is string => v !== undefined);
    return parts.length ? shorten(parts.join(", ")) : undefined;
  }
  if (typeof value === "object") {
    // Lookups and users ({name, id, email}) read best by name.
    const o = value as Record<string, unknown>;
    for (const key of ["name", "display_value", "full_name", "email"]) {
      if (typeof o[key] === "string" && o[key]) return formatValue(o[key]);
    }
    // A multi-select lookup's row ({Looked_Up: {name, id}, id}), a subform row ({Field: value, ..., id})
    // or a status ({type: "sent"}): its own values, not its row id.
    const own = Object.entries(o)
      .filter(([k]) => !ROW_NOISE.has(k) && !k.startsWith("$"))
      .map(([, v]) => formatValue(v))
      .filter((v): v is string => v !== undefined);
    if (own.length) return shorten(own.slice(0, ROW_VALUES).join(" / "));
    if (typeof o.id === "string" && o.id) return o.id;
    const json = JSON.stringify(o);
    return json === "{}" ? undefined : formatValue(json);
  }
  return String(value);
}

/**
 * A record id as a row shows it. Zoho's record ids are 19 digits; an email's id (its message_id) is
 * 64 hex characters that would crowd out the row: its start tells emails apart, and the whole id
 * is in structuredContent and the email's link.
 */
export function shownId(id: string): string {
  return id.length > 24 ? `${id.slice(0, 12)}…` : id;
}

/** The module a related record belongs to: its own $module (activity views), else the list's target. */
export function moduleOf(record: ZohoRecord, listModule: string): string {
  return typeof record.$module === "string" && record.$module ? record.$module : listModule;
}

/** The headline's column names for recordRow: `id | Field | Field`. */
export function columnsOf(fields: string[]): string {
  return ["id", ...fields.filter((f) => f !== "id")].join(" | ");
}

/**
 * `id | value | value` in the order of `fields`, for lists of one module: the headline names the
 * columns once, so no line repeats a field name. A missing value is an empty column (trailing ones
 * are dropped); a `|` inside a value is escaped so the columns stay countable.
 */
export function recordRow(record: ZohoRecord, fields: string[]): string {
  const cells = [shownId(record.id)];
  for (const field of fields) {
    if (field === "id") continue;
    cells.push(formatValue(record[field])?.replaceAll("|", "\\|") ?? "");
  }
  while (cells.length > 1 && cells[cells.length - 1] === "") cells.pop();
  return cells.join(" | ");
}

/**
 * `id [Module] Field: value · Field: value` — for the activity views, whose rows mix Calls, Tasks
 * and Events and so leave most columns empty: only values that exist, each with its field name.
 */
export function recordLine(record: ZohoRecord, fields: string[], module?: string): string {
  const parts: string[] = [];
  for (const field of fields) {
    if (field === "id") continue;
    const shown = formatValue(record[field]);
    if (shown !== undefined) parts.push(`${field}: ${shown}`);
  }
  const head = module ? `${shownId(record.id)} [${module}]` : shownId(record.id);
  return parts.length ? `${head} ${parts.join(" · ")}` : head;
}

export function recordUri(module: string, id: string): string {
  return `zohocrm://records/${module}/${id}`;
}

/**
 * A record's link, named by its id (what the uri ends with, like a file name): the record's values
 * are in its summary line already, and a value repeated in the link is paid for twice.
 */
export function resourceLink(record: ZohoRecord, module: string): ResourceLink {
  return { type: "resource_link", uri: recordUri(module, record.id), name: record.id, mimeType: "application/json" };
}
