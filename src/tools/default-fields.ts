/**
 * Fields to ask for when the caller gives none (Zoho requires `fields`). Keyed by the related
 * records' module; the CRM's own columns for these lists look much the same.
 */
const BY_MODULE: Record<string, string[]> = {
  Notes: ["Note_Title", "Note_Content", "Owner", "Created_Time"],
  Attachments: ["File_Name", "Size", "Owner", "Created_Time"],
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
};

/** The activity views mix Calls, Tasks and Events: ask for each one's subject, time and status. */
export const ACTIVITY_FIELDS = ["Subject", "Event_Title", "Status", "Due_Date", "Call_Start_Time", "Start_DateTime", "Owner"];

/** Columns every Zoho record has. */
const COMMON = ["Owner", "Created_Time", "Modified_Time"];

export function defaultFields(targetModule: string | null | undefined, relatedListApiName: string): string[] {
  if (relatedListApiName.startsWith("Activities_Chronological_View")) return ACTIVITY_FIELDS;
  return BY_MODULE[targetModule ?? ""] ?? BY_MODULE[relatedListApiName] ?? COMMON;
}

/** The field that names a record, for link titles; first one the record has wins. */
export const NAME_FIELDS = ["Full_Name", "Deal_Name", "Account_Name", "Subject", "Event_Title", "Note_Title", "File_Name", "Campaign_Name", "Product_Name", "Name"];
