import { distance } from "fastest-levenshtein";
import type { Logger } from "../log.js";
import { isEmailsList } from "../zoho/emails.js";
import { InputError } from "../zoho/errors.js";
import type { FieldCatalog, FieldMeta, RelatedListCatalog, RelatedListMeta } from "../zoho/metadata.js";

/**
 * Well-known fields per module, keyed by the related records' module: what the CRM's own columns
 * for these lists show. With field metadata they are the "well-known" part of the default; without
 * it (scope refused, module not served) they are the whole default.
 */
const BY_MODULE: Record<string, string[]> = {
  Notes: ["Note_Title", "Note_Content", "Owner", "Created_Time"],
  Attachments: ["File_Name", "Size", "Owner", "Created_Time"],
  // Keys of Zoho's Email model (the Emails API takes no fields; these are the columns shown).
  Emails: ["subject", "from", "sent_time", "status"],
  Contacts: ["Full_Name", "Email", "Phone", "Title"],
  Leads: ["Full_Name", "Company", "Email", "Lead_Status"],
  Accounts: ["Account_Name", "Phone", "Website", "Industry"],
  Deals: ["Deal_Name", "Stage", "Amount", "Closing_Date"],
  Campaigns: ["Campaign_Name", "Type", "Status", "Start_Date"],
  Products: ["Product_Name", "Product_Code", "Unit_Price"],
  Cases: ["Subject", "Status", "Priority"],
  Quotes: ["Subject", "Quote_Stage", "Grand_Total"],
  Invoices: ["Subject", "Status", "Grand_Total"],
  Sales_Orders: ["Subject", "Status", "Grand_Total"],
  Calls: ["Subject", "Call_Start_Time", "Call_Type", "Owner"],
  Tasks: ["Subject", "Due_Date", "Status", "Owner"],
  Events: ["Event_Title", "Start_DateTime", "End_DateTime", "Owner"],
  // A deal's stage history, a field tracker's list: the stage, the one it moved to, how many days it
  // stayed, when and by whom (Zoho's Kaizen #107 names these columns; docs/zoho-compatibility.md).
  Stage_History: ["Stage", "Moved_To__s", "Stage_Duration_Calendar_Days", "Modified_Time", "Modified_By"],
};

/** The column every field tracker's history has: where the tracked value moved to next. */
const TRACKER_MOVED_TO = "Moved_To__s";

/** The activity views mix Calls, Tasks and Events: ask for each one's subject, time and status. */
export const ACTIVITY_FIELDS = ["Subject", "Event_Title", "Status", "Due_Date", "Call_Start_Time", "Start_DateTime", "Owner"];

/** Columns every Zoho record has. */
const COMMON = ["Owner", "Created_Time", "Modified_Time"];

/** The field that names a record, for link titles; first one the record has wins. */
export const NAME_FIELDS = ["Full_Name", "Deal_Name", "Account_Name", "Subject", "Event_Title", "Note_Title", "File_Name", "Campaign_Name", "Product_Name", "Name"];

export function isActivityView(relatedListApiName: string): boolean {
  return relatedListApiName.startsWith("Activities_Chronological_View");
}

/** The well-known default, with no metadata at all. */
export function defaultFields(targetModule: string | null | undefined, relatedListApiName: string): string[] {
  if (isActivityView(relatedListApiName)) return ACTIVITY_FIELDS;
  return BY_MODULE[targetModule ?? ""] ?? BY_MODULE[relatedListApiName] ?? COMMON;
}

/**
 * Defaults from a module's field metadata: its name field, the well-known ones, owner, created
 * and modified time; only fields the module really has, so custom orgs get no unknown names.
 */
export function fieldsFromMetadata(module: string, meta: FieldMeta[]): string[] {
  const have = new Set(meta.map((f) => f.api_name));
  // A field tracker's history module (a picklist's history, e.g. Lead_Status_History): the tracked
  // picklist, where it moved to, the duration, when and by whom, under the names this org's metadata gives.
  if (have.has(TRACKER_MOVED_TO)) {
    const tracked = meta.find((f) => f.data_type === "picklist" && f.api_name !== TRACKER_MOVED_TO)?.api_name;
    const duration = meta.find((f) => /duration/i.test(f.api_name))?.api_name;
    return [tracked, TRACKER_MOVED_TO, duration, "Modified_Time", "Modified_By"].filter((f): f is string => f !== undefined && have.has(f));
  }
  const name = NAME_FIELDS.find((f) => have.has(f)) ?? meta.find((f) => f.system_mandatory)?.api_name;
  const wanted = [name, ...(BY_MODULE[module] ?? []), ...COMMON];
  return [...new Set(wanted.filter((f): f is string => f !== undefined && have.has(f)))];
}

/** Where a list's fields came from, said in the result. */
export type FieldsSource = "given" | "related list" | "module metadata" | "field metadata" | "well-known";

/** What a query of one related list needs before its first request. */
export interface ListPlan {
  /** Module of the records, for their resource links (activity rows carry their own $module). */
  module: string;
  grouped: boolean;
  /** The related-list metadata names the records' own module (false: it names none); undefined when unknown. */
  hasOwnModule: boolean | undefined;
  fields: string[];
  fields_source: FieldsSource;
}

export interface PlanDeps {
  catalog: RelatedListCatalog;
  fieldCatalog: FieldCatalog;
  logger: Logger;
}

/** Refusal of related list names the module does not have, naming the field and the lists it has. */
export function notRelatedLists(field: string, unknown: string[], module: string, all: RelatedListMeta[]): InputError {
  const are = unknown.length === 1 ? "is not a related list" : "are not related lists";
  return new InputError(`${field}: ${unknown.join(", ")} ${are} of ${module}. Its lists: ${all.map((l) => l.api_name).join(", ")}`);
}

/**
 * The records' module and the fields to ask for. `meta` is the list's metadata entry when the
 * caller has it (null: known to be unavailable); otherwise it is looked up, cached. The sources,
 * in order: the caller's, the related list's own columns, the target module's related-list columns
 * (Modules API), picks from its field metadata, the well-known table. Every metadata failure
 * degrades to the next source: defaults must never fail a call.
 */
export async function planList(
  deps: PlanDeps,
  parentModule: string,
  relatedListApiName: string,
  given: string[] | undefined,
  meta?: RelatedListMeta | null,
): Promise<ListPlan> {
  const grouped = isActivityView(relatedListApiName);
  const entry =
    meta !== undefined || grouped
      ? meta
      : await deps.catalog.list(parentModule, relatedListApiName).catch((error: unknown) => {
          deps.logger.log("warning", `related list metadata for ${parentModule} unavailable (${(error as Error).message}); assuming module ${relatedListApiName}`);
          return null;
        });
  // The metadata answered and has no such list, or has it hidden: Zoho would only say
  // INVALID_DATA, after a request.
  if (meta === undefined && !grouped) {
    if (entry === undefined) throw notRelatedLists("related_list_api_name", [relatedListApiName], parentModule, await deps.catalog.lists(parentModule));
    if (entry && entry.status !== "visible") {
      const why = entry.status === "scheduled_for_deletion" ? "is scheduled for deletion" : `is hidden in ${parentModule}' layout`;
      throw new InputError(`related_list_api_name: ${relatedListApiName} ${why} (${entry.status}), so Zoho does not serve it; a CRM administrator can show it again`);
    }
  }
  // Without metadata, the list's name matches the module for the standard lists (Notes, Contacts, Deals...).
  const module = entry?.module ?? relatedListApiName;
  const hasOwnModule = entry ? entry.module !== null : undefined;
  const plan = (fields: string[], fields_source: FieldsSource): ListPlan => ({ module, grouped, hasOwnModule, fields, fields_source });

  if (given) return plan([...new Set(given)], "given");
  if (grouped) return plan(ACTIVITY_FIELDS, "well-known");
  // Emails are no module: there is no field metadata to ask for, only the Email model's keys.
  if (isEmailsList(relatedListApiName)) return plan(defaultFields("Emails", relatedListApiName), "well-known");
  if (entry?.fields) return plan(entry.fields.slice(0, 50), "related list");
  // A list with no module of its own (e.g. Stage_History) has no module or field metadata to ask for.
  if (entry === undefined || entry === null || entry.module !== null) {
    // Both asked at once (each cached): a first call waits one round trip, not two.
    const [columns, fieldMeta] = await Promise.allSettled([deps.fieldCatalog.relatedListColumns(module), deps.fieldCatalog.fields(module)]);
    if (columns.status === "fulfilled" && columns.value?.length) return plan(columns.value.slice(0, 50), "module metadata");
    if (fieldMeta.status === "fulfilled") {
      const fields = fieldsFromMetadata(module, fieldMeta.value);
      if (fields.length) return plan(fields, "field metadata");
    } else {
      deps.logger.log("info", `field metadata for ${module} unavailable (${(fieldMeta.reason as Error).message}); using well-known fields`);
    }
  }
  return plan(defaultFields(entry?.module, relatedListApiName), "well-known");
}

/** Names Zoho cannot judge from field metadata: the id, system keys ($se_module), lookups' own fields (Owner.email). */
function judgeable(field: string): boolean {
  return field !== "id" && !field.startsWith("$") && !field.includes(".");
}

/** Up to three real field names closest to `name`: the same name in other case first, then by edit distance. */
export function closestFields(name: string, real: string[]): string[] {
  const lower = name.toLowerCase();
  const scored = real.map((f) => {
    const other = f.toLowerCase();
    const score = other === lower ? 0 : other.includes(lower) || lower.includes(other) ? 1 : 1 + distance(lower, other);
    return { f, score };
  });
  const limit = Math.max(3, Math.ceil(name.length / 2));
  return scored.filter((c) => c.score <= limit).sort((a, b) => a.score - b.score || a.f.localeCompare(b.f)).slice(0, 3).map((c) => c.f);
}

/**
 * Zoho leaves a field name it does not know out of the rows without a word, so a typo reads as an
 * empty column. When a requested column is missing from every row, the field metadata (cached, the
 * one the defaults use) tells whether the module has it at all: the names it lacks come back with
 * the closest real ones, as a line of the result. Metadata that cannot be read says nothing.
 */
export async function unknownFieldsNote(deps: PlanDeps, modules: string[], fields: string[], records: Array<Record<string, unknown>>): Promise<string | undefined> {
  if (!modules.length || !records.length) return undefined;
  const empty = fields.filter((f) => judgeable(f) && records.every((r) => !Object.hasOwn(r, f)));
  if (!empty.length) return undefined;
  let real: string[];
  try {
    real = [...new Set((await Promise.all(modules.map((m) => deps.fieldCatalog.fields(m)))).flat().map((f) => f.api_name))];
  } catch (error) {
    deps.logger.log("info", `field metadata for ${modules.join(", ")} unavailable (${(error as Error).message}); unknown field names not checked`);
    return undefined;
  }
  if (!real.length) return undefined;
  const unknown = empty.filter((f) => !real.includes(f));
  if (!unknown.length) return undefined;
  const where = modules.length === 1 ? modules[0]! : modules.join(", ");
  const each = unknown.map((f) => {
    const near = closestFields(f, real);
    // Nothing close: the module's own names instead (the first ones, as the metadata lists them).
    return near.length ? `${f} (closest: ${near.join(", ")})` : `${f} (its fields: ${real.slice(0, 8).join(", ")}${real.length > 8 ? ", …" : ""})`;
  });
  return `Not ${unknown.length === 1 ? "a field" : "fields"} of ${where}, so Zoho left ${unknown.length === 1 ? "it" : "them"} out of every row: ${each.join("; ")}.`;
}
