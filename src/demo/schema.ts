// Metadata of the demo org: which modules exist, which related lists each module declares
// (GET /settings/related_lists) and which fields (GET /settings/fields). The records themselves
// live in seed.ts; this file only describes their shape.

export interface ModuleRef {
  api_name: string;
  id: string;
}

/** One entry of `GET /crm/v7/settings/related_lists?module=...`, shaped like Zoho's. */
export interface RelatedListMeta {
  id: string;
  sequence_number: string; // Zoho sends it as a string
  display_label: string;
  api_name: string;
  module: ModuleRef | null; // null for the grouped activity views
  name: string;
  href: string | null; // "Leads/{ENTITYID}/Notes"; null for grouped lists
  type: "default" | "multiselectlookup" | "grouped";
  connectedmodule: string | null;
  linkingmodule: string | null;
  status: "visible" | "user_hidden" | "scheduled_for_deletion";
  /** The columns the list shows, as a specific list's metadata carries them; most demo lists leave it out. */
  fields?: Array<{ api_name: string; id: string }>;
}

/** One entry of `GET /crm/v7/settings/fields?module=...` (the keys a client is likely to read). */
export interface FieldMeta {
  id: string;
  api_name: string;
  display_label: string;
  field_label: string;
  data_type: string;
  json_type: string;
  system_mandatory: boolean;
  read_only: boolean;
  lookup?: { module: ModuleRef };
}

const MODULE_IDS: Record<string, string> = {
  Leads: "4876876000000002175",
  Accounts: "4876876000000002177",
  Contacts: "4876876000000002179",
  Deals: "4876876000000002181",
  Cases: "4876876000000002183",
  Products: "4876876000000002185",
  Tasks: "4876876000000002187",
  Events: "4876876000000002189",
  Calls: "4876876000000002191",
  Campaigns: "4876876000000002193",
  Solutions: "4876876000000002195",
  Vendors: "4876876000000002197",
  Notes: "4876876000000002199",
  Quotes: "4876876000000002201",
  Sales_Orders: "4876876000000002203",
  Purchase_Orders: "4876876000000002205",
  Invoices: "4876876000000002207",
  Price_Books: "4876876000000002209",
  Shipments: "4876876000001105001",
  // Not addressable as /crm/v7/{module}, but related lists point at them.
  Attachments: "4876876000000002211",
  Emails: "4876876000000002213",
  Deals_X_Accounts: "4876876000000002215",
};

/** Modules the demo answers for in URLs (case-sensitive, like Zoho's API names). */
export const CRM_MODULES: ReadonlySet<string> = new Set([
  "Leads", "Accounts", "Contacts", "Deals", "Campaigns", "Calls", "Tasks", "Events", "Notes",
  "Cases", "Products", "Quotes", "Invoices", "Sales_Orders", "Purchase_Orders", "Vendors",
  "Price_Books", "Solutions",
  // A custom module, as orgs have: the Modules API lists it, completions offer it.
  "Shipments",
]);

/** Zoho's page: "The modules such as Documents and Projects are not supported in the current API". */
export const UNSUPPORTED_MODULES: ReadonlySet<string> = new Set(["Documents", "Projects"]);

/** Modules whose data the demo user may not read, each failing the way Zoho documents it. */
export const RESTRICTED_MODULES: Readonly<Record<string, { status: number; code: string; message: string; details: Record<string, unknown> }>> = {
  // The demo client was created without ZohoCRM.modules.cases.READ (nor modules.ALL for Cases).
  Cases: { status: 401, code: "OAUTH_SCOPE_MISMATCH", message: "invalid oauth scope to access this URL", details: { required_scope: "ZohoCRM.modules.cases.READ" } },
  // The demo user's profile has no read permission on Invoices.
  Invoices: { status: 403, code: "NO_PERMISSION", message: "permission denied", details: { permissions: ["Crm_Implied_View_Invoices"] } },
  // The demo user's role lacks the privilege to read related Quotes.
  Quotes: { status: 400, code: "AUTHORIZATION_FAILED", message: "User does not have sufficient privilege to read related records data", details: {} },
};

export function moduleRef(apiName: string): ModuleRef {
  const id = MODULE_IDS[apiName];
  if (id === undefined) throw new Error(`demo schema: no id for module ${apiName}`);
  return { api_name: apiName, id };
}

// ---------------------------------------------------------------- related lists

interface ListSpec {
  api_name: string;
  label: string;
  target: string | null; // target module; null for grouped or module-less lists
  type?: RelatedListMeta["type"];
  status?: RelatedListMeta["status"];
  name?: string;
  connected?: string;
  fields?: string[];
}

const openActivities: ListSpec = { api_name: "Activities_Chronological_View", label: "Open Activities", target: null, type: "grouped", name: "Activities" };
const closedActivities: ListSpec = { api_name: "Activities_Chronological_View_History", label: "Closed Activities", target: null, type: "grouped", name: "Activities_History" };
const notes: ListSpec = { api_name: "Notes", label: "Notes", target: "Notes" };
const attachments: ListSpec = { api_name: "Attachments", label: "Attachments", target: "Attachments" };

const LIST_SPECS: Record<string, ListSpec[]> = {
  Leads: [
    notes, attachments, openActivities, closedActivities,
    { api_name: "Campaigns", label: "Campaigns", target: "Campaigns" },
    { api_name: "Emails", label: "Emails", target: "Emails" },
    { api_name: "Products", label: "Products", target: "Products" },
    { api_name: "Visits_Zoho_Livedesk", label: "Visits", target: null, status: "scheduled_for_deletion" },
  ],
  Accounts: [
    { api_name: "Contacts", label: "Contacts", target: "Contacts" },
    { api_name: "Deals", label: "Deals", target: "Deals" },
    notes, attachments, openActivities, closedActivities,
    { api_name: "Cases", label: "Cases", target: "Cases" },
    { api_name: "Invoices", label: "Invoices", target: "Invoices" },
    { api_name: "Quotes", label: "Quotes", target: "Quotes" },
    { api_name: "Products", label: "Products", target: "Products" },
    { api_name: "Child_Accounts", label: "Member Accounts", target: "Accounts" },
    { api_name: "Social", label: "Social", target: null, status: "user_hidden" },
  ],
  Contacts: [
    notes, attachments, openActivities, closedActivities,
    { api_name: "Deals", label: "Deals", target: "Deals" },
    { api_name: "Cases", label: "Cases", target: "Cases" },
    { api_name: "Campaigns", label: "Campaigns", target: "Campaigns" },
    { api_name: "Emails", label: "Emails", target: "Emails" },
  ],
  Deals: [
    notes, attachments, openActivities, closedActivities,
    { api_name: "Contact_Roles", label: "Contact Roles", target: "Contacts", fields: ["Full_Name", "Email", "Phone"] },
    { api_name: "Stage_History", label: "Stage History", target: null, name: "Potential Stage History" },
    { api_name: "Products", label: "Products", target: "Products" },
    // A multi-select lookup: the related records live in a linking module.
    { api_name: "Partner_Accounts", label: "Partner Accounts", target: "Deals_X_Accounts", type: "multiselectlookup", connected: "Accounts" },
  ],
  Campaigns: [
    { api_name: "Leads", label: "Leads", target: "Leads" },
    { api_name: "Contacts", label: "Contacts", target: "Contacts" },
    { api_name: "Deals", label: "Deals", target: "Deals" },
    { api_name: "Child_Campaigns", label: "Child Campaigns", target: "Campaigns" },
    notes, attachments, openActivities, closedActivities,
  ],
  Notes: [attachments],
};

// Every other module gets the lists every Zoho module has.
const DEFAULT_LISTS: ListSpec[] = [notes, attachments];

let listIdCounter = 4876876000000093001n;
const LIST_CACHE = new Map<string, RelatedListMeta[]>();

export function relatedListsOf(module: string): RelatedListMeta[] {
  let lists = LIST_CACHE.get(module);
  if (lists === undefined) {
    lists = (LIST_SPECS[module] ?? DEFAULT_LISTS).map((spec, i) => toListMeta(module, spec, i + 1));
    LIST_CACHE.set(module, lists);
  }
  return lists;
}

function toListMeta(parent: string, spec: ListSpec, sequence: number): RelatedListMeta {
  const type = spec.type ?? "default";
  const id = String(listIdCounter);
  listIdCounter += 2n;
  return {
    id,
    sequence_number: String(sequence),
    display_label: spec.label,
    api_name: spec.api_name,
    module: type === "grouped" || spec.target === null ? null : moduleRef(spec.target),
    name: spec.name ?? spec.api_name,
    href: type === "grouped" ? null : `${parent}/{ENTITYID}/${spec.api_name}`,
    type,
    connectedmodule: spec.connected ?? null,
    linkingmodule: type === "multiselectlookup" ? spec.target : null,
    status: spec.status ?? "visible",
    ...(spec.fields && spec.target ? { fields: spec.fields.map((name) => listField(spec.target ?? "", name)) } : {}),
  };
}

function listField(module: string, apiName: string): { api_name: string; id: string } {
  const field = fieldsOf(module).find((f) => f.api_name === apiName);
  if (!field) throw new Error(`demo schema: ${module} has no field ${apiName}`);
  return { api_name: apiName, id: field.id };
}

// ---------------------------------------------------------------- fields

type FieldSpec = [api_name: string, label: string, data_type: string, lookupModule?: string];

const JSON_TYPES: Record<string, string> = {
  text: "string", textarea: "string", email: "string", phone: "string", website: "string",
  picklist: "string", date: "string", datetime: "string", integer: "integer", bigint: "string",
  currency: "double", double: "double", boolean: "boolean", lookup: "jsonobject",
  ownerlookup: "jsonobject", multiselectlookup: "jsonarray",
};

const AUDIT_FIELDS: FieldSpec[] = [
  ["Owner", "Owner", "ownerlookup"],
  ["Created_By", "Created By", "ownerlookup"],
  ["Modified_By", "Modified By", "ownerlookup"],
  ["Created_Time", "Created Time", "datetime"],
  ["Modified_Time", "Modified Time", "datetime"],
];

const FIELD_SPECS: Record<string, FieldSpec[]> = {
  Leads: [
    ["First_Name", "First Name", "text"], ["Last_Name", "Last Name", "text"], ["Full_Name", "Lead Name", "text"],
    ["Company", "Company", "text"], ["Designation", "Title", "text"], ["Email", "Email", "email"],
    ["Phone", "Phone", "phone"], ["Lead_Status", "Lead Status", "picklist"], ["Lead_Source", "Lead Source", "picklist"],
    ["Industry", "Industry", "picklist"], ["Annual_Revenue", "Annual Revenue", "currency"],
  ],
  Accounts: [
    ["Account_Name", "Account Name", "text"], ["Industry", "Industry", "picklist"], ["Phone", "Phone", "phone"],
    ["Website", "Website", "website"], ["Billing_City", "Billing City", "text"], ["Billing_Country", "Billing Country", "text"],
    ["Employees", "Employees", "integer"], ["Annual_Revenue", "Annual Revenue", "currency"],
  ],
  Contacts: [
    ["First_Name", "First Name", "text"], ["Last_Name", "Last Name", "text"], ["Full_Name", "Contact Name", "text"],
    ["Email", "Email", "email"], ["Phone", "Phone", "phone"], ["Title", "Title", "text"],
    ["Account_Name", "Account Name", "lookup", "Accounts"], ["Lead_Source", "Lead Source", "picklist"],
  ],
  Deals: [
    ["Deal_Name", "Deal Name", "text"], ["Stage", "Stage", "picklist"], ["Amount", "Amount", "currency"],
    ["Closing_Date", "Closing Date", "date"], ["Probability", "Probability (%)", "integer"],
    ["Account_Name", "Account Name", "lookup", "Accounts"], ["Contact_Name", "Contact Name", "lookup", "Contacts"],
  ],
  Campaigns: [
    ["Campaign_Name", "Campaign Name", "text"], ["Type", "Type", "picklist"], ["Status", "Status", "picklist"],
    ["Start_Date", "Start Date", "date"], ["End_Date", "End Date", "date"], ["Expected_Revenue", "Expected Revenue", "currency"],
    ["Budgeted_Cost", "Budgeted Cost", "currency"],
  ],
  Calls: [
    ["Subject", "Subject", "text"], ["Call_Type", "Call Type", "picklist"], ["Call_Start_Time", "Call Start Time", "datetime"],
    ["Call_Duration", "Call Duration", "text"], ["Call_Status", "Call Status", "picklist"], ["Call_Purpose", "Call Purpose", "picklist"],
    ["Call_Result", "Call Result", "picklist"], ["What_Id", "Related To", "lookup"], ["Who_Id", "Contact Name", "lookup", "Contacts"],
  ],
  Tasks: [
    ["Subject", "Subject", "text"], ["Due_Date", "Due Date", "date"], ["Status", "Status", "picklist"],
    ["Priority", "Priority", "picklist"], ["Closed_Time", "Closed Time", "datetime"],
    ["What_Id", "Related To", "lookup"], ["Who_Id", "Contact Name", "lookup", "Contacts"],
  ],
  Events: [
    ["Event_Title", "Title", "text"], ["Start_DateTime", "From", "datetime"], ["End_DateTime", "To", "datetime"],
    ["Venue", "Venue", "text"], ["All_day", "All day", "boolean"], ["What_Id", "Related To", "lookup"],
    ["Who_Id", "Contact Name", "lookup", "Contacts"],
  ],
  Notes: [
    ["Note_Title", "Note Title", "text"], ["Note_Content", "Note Content", "textarea"], ["Parent_Id", "Parent ID", "lookup"],
  ],
};

// Name fields of the modules the demo holds no records for.
const NAME_FIELDS: Record<string, FieldSpec> = {
  Cases: ["Subject", "Subject", "text"],
  Products: ["Product_Name", "Product Name", "text"],
  Quotes: ["Subject", "Subject", "text"],
  Invoices: ["Subject", "Subject", "text"],
  Sales_Orders: ["Subject", "Subject", "text"],
  Purchase_Orders: ["Subject", "Subject", "text"],
  Vendors: ["Vendor_Name", "Vendor Name", "text"],
  Price_Books: ["Price_Book_Name", "Price Book Name", "text"],
  Solutions: ["Solution_Title", "Solution Title", "text"],
  Shipments: ["Name", "Shipment Name", "text"],
};

/**
 * The columns a module's records show in other records' related lists, as the Modules API gives
 * them (`related_list_properties`). Only some demo modules carry them, so that the other sources
 * of default fields (field metadata, the well-known table) stay reachable too.
 */
const RELATED_LIST_COLUMNS: Record<string, string[]> = {
  Contacts: ["Full_Name", "Title", "Email", "Phone"],
  Deals: ["Deal_Name", "Stage", "Amount", "Closing_Date", "Contact_Name"],
};

/** GET /settings/modules: every module of the org, in the CRM's tab order. */
export function modulesList(): Array<Record<string, unknown>> {
  return [...CRM_MODULES].map((module) => ({ ...moduleSettingsOf(module), generated_type: module === "Shipments" ? "custom" : "default" }));
}

/**
 * The module's internal name, which the CRM's web addresses use (`/tab/Potentials/{id}`): Zoho's
 * Modules API gives Deals `module_name: "Potentials"` and a custom module `CustomModuleN`.
 */
const MODULE_NAMES: Record<string, string> = { Deals: "Potentials", Shipments: "CustomModule1" };

/** Singular labels that are not the plural less its "s". */
const SINGULAR: Record<string, string> = { Activities: "Activity", Price_Books: "Price Book", Sales_Orders: "Sales Order", Purchase_Orders: "Purchase Order" };

/** GET /settings/modules/{module}: the parts of Zoho's answer the server reads. */
export function moduleSettingsOf(module: string): Record<string, unknown> {
  const columns = RELATED_LIST_COLUMNS[module];
  const plural = module.replace(/_/g, " ");
  return {
    api_name: module,
    module_name: MODULE_NAMES[module] ?? module,
    singular_label: SINGULAR[module] ?? plural.replace(/s$/, ""),
    plural_label: plural,
    id: moduleRef(module).id,
    api_supported: true,
    ...(columns ? { related_list_properties: { sort_by: "Modified_Time", sort_order: "desc", fields: columns } } : {}),
  };
}

const FIELD_CACHE = new Map<string, FieldMeta[]>();

export function fieldsOf(module: string): FieldMeta[] {
  let fields = FIELD_CACHE.get(module);
  if (fields === undefined) {
    const own = FIELD_SPECS[module] ?? (NAME_FIELDS[module] ? [NAME_FIELDS[module]] : []);
    const base = BigInt(moduleRef(module).id) * 1000n; // keep field ids distinct per module
    fields = [...own, ...AUDIT_FIELDS].map(([api_name, label, data_type, lookup], i): FieldMeta => ({
      id: String(4876876000000000000n + ((base + BigInt(i)) % 1_000_000_000n)),
      api_name,
      display_label: label,
      field_label: label,
      data_type,
      json_type: JSON_TYPES[data_type] ?? "string",
      system_mandatory: i === 0 || api_name === "Last_Name",
      read_only: api_name.endsWith("_Time") || api_name === "Created_By" || api_name === "Modified_By" || api_name === "Full_Name",
      ...(lookup ? { lookup: { module: moduleRef(lookup) } } : {}),
    }));
    FIELD_CACHE.set(module, fields);
  }
  return fields;
}
