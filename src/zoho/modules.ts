/**
 * Zoho CRM's standard module API names, for completions: a model or a person typing "le" gets
 * "Leads". Custom modules are not listed (they need the Modules API and its own scope).
 */
export const STANDARD_MODULES = [
  "Leads", "Accounts", "Contacts", "Deals", "Campaigns", "Tasks", "Events", "Calls", "Cases",
  "Solutions", "Products", "Vendors", "Price_Books", "Quotes", "Sales_Orders", "Purchase_Orders",
  "Invoices", "Notes", "Appointments__s", "Services__s",
] as const;

/** Module names that start with what was typed, case-insensitively; the common ones first. */
export function completeModuleName(typed: string | undefined): string[] {
  const prefix = (typed ?? "").toLowerCase();
  return STANDARD_MODULES.filter((m) => m.toLowerCase().startsWith(prefix));
}
