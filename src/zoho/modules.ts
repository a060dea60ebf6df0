import type { ModuleCatalog } from "./metadata.js";

/**
 * Zoho CRM's standard module API names, for completions: a model or a person typing "le" gets
 * "Leads". The org's own list (custom modules too) comes from the Modules API when its scope is
 * granted; these are the fallback.
 */
export const STANDARD_MODULES = [
  "Leads", "Accounts", "Contacts", "Deals", "Campaigns", "Tasks", "Events", "Calls", "Cases",
  "Solutions", "Products", "Vendors", "Price_Books", "Quotes", "Sales_Orders", "Purchase_Orders",
  "Invoices", "Notes", "Appointments__s", "Services__s",
] as const;

/** Module names that start with what was typed, case-insensitively, in the given order. */
export function completeModuleName(typed: string | undefined, names: readonly string[] = STANDARD_MODULES): string[] {
  const prefix = (typed ?? "").toLowerCase();
  return names.filter((m) => m.toLowerCase().startsWith(prefix));
}

/** A completer over the org's modules, falling back to the standard ones while the Modules API is refused. */
export function moduleNameCompleter(modules: ModuleCatalog): (typed: string | undefined) => Promise<string[]> {
  return async (typed) => completeModuleName(typed, await modules.names().catch(() => STANDARD_MODULES));
}
