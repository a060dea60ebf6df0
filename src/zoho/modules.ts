import { InputError } from "./errors.js";
import type { ModuleCatalog, ModuleMeta } from "./metadata.js";

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

/**
 * Internal names of the standard modules whose web addresses differ from their API names, for when
 * the Modules API is refused: Zoho's web client still says `Potentials` for Deals.
 */
const STANDARD_WEB_NAMES: Record<string, string> = { Deals: "Potentials" };

/** "Deal", "deals", "Potentials", "Sales Orders" all reduce to the same key as their module. */
function key(name: string): string {
  return name.toLowerCase().replace(/[\s_]+/g, "");
}

/** A module as people write it, resolved to its API name; `undefined` when nothing matches. */
export function matchModule(name: string, modules: readonly ModuleMeta[]): string | undefined {
  const exact = modules.find((m) => m.api_name === name);
  if (exact) return exact.api_name;
  const k = key(name);
  const hits = modules.filter((m) => [m.api_name, m.module_name, m.singular_label, m.plural_label].some((n) => key(n) === k || key(n) === `${k}s`));
  return hits.length === 1 ? hits[0]!.api_name : undefined;
}

/** The standard modules as ModuleMeta, for when the Modules API is refused. */
export const STANDARD_MODULE_META: readonly ModuleMeta[] = STANDARD_MODULES.map((api) => ({
  api_name: api,
  module_name: STANDARD_WEB_NAMES[api] ?? api,
  singular_label: api.replace(/_/g, " ").replace(/s$/, ""),
  plural_label: api.replace(/_/g, " "),
}));

/** The org's modules, or the standard ones while the Modules API is refused or unreachable. */
export async function knownModules(modules: ModuleCatalog): Promise<{ list: readonly ModuleMeta[]; fromOrg: boolean }> {
  try {
    return { list: await modules.modules(), fromOrg: true };
  } catch {
    return { list: STANDARD_MODULE_META, fromOrg: false };
  }
}

/**
 * `module_api_name` as a person or a model wrote it (`Deal`, `deals`, `Potentials`) -> the API name.
 * A standard API name as written costs no request. A name that matches nothing is refused, naming
 * the real ones (`field` is the input that carried it); while the org's list cannot be read, an
 * unknown name goes to Zoho as written and Zoho's answer speaks.
 */
export async function resolveModule(name: string, modules: ModuleCatalog, field = "module_api_name"): Promise<string> {
  if ((STANDARD_MODULES as readonly string[]).includes(name)) return name;
  const { list, fromOrg } = await knownModules(modules);
  const found = matchModule(name, list);
  if (found) return found;
  if (!fromOrg) return name;
  throw new InputError(`${field}: ${JSON.stringify(name)} is not a module of this CRM; its modules are ${list.map((m) => m.api_name).join(", ")}`);
}

/** The name a module goes by in the CRM's web addresses (`/tab/{name}/{id}`), from the org's modules (knownModules). */
export function webModuleName(apiName: string, list: readonly ModuleMeta[]): string {
  return list.find((m) => m.api_name === apiName)?.module_name ?? STANDARD_WEB_NAMES[apiName] ?? apiName;
}
