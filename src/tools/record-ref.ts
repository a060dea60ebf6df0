import { parseWebAddress } from "../format/web.js";
import { InputError } from "../zoho/errors.js";
import { STANDARD_MODULE_META, knownModules, matchModule, resolveModule } from "../zoho/modules.js";
import type { ToolDeps } from "./types.js";

/** A record as the tools address it: module API name and record id. */
export interface RecordRef {
  module_api_name: string;
  record_id: string;
}

/**
 * A record as people refer to it, shared by every tool that takes `record_id`: a record id with its
 * `module_api_name` (written as people write it: `Deal`, `deals`), or the record's Zoho CRM web
 * address, whose module part is Zoho's internal name (`Potentials`, `CustomModule3`), mapped to the
 * API name through the Modules API. Only the module and the id are read from an address: requests
 * go to the configured (or signed-in) API domain whatever host it names.
 */
export async function resolveRecord(args: { module_api_name?: string | undefined; record_id: string }, deps: ToolDeps): Promise<RecordRef> {
  const web = /^\d+$/.test(args.record_id) ? undefined : parseWebAddress(args.record_id);
  if (!web) {
    if (!args.module_api_name) {
      throw new InputError("module_api_name: required with a numeric record_id (or give the record's Zoho CRM web address as record_id, which names its module)");
    }
    return { module_api_name: await resolveModule(args.module_api_name, deps.modules), record_id: args.record_id };
  }
  const { list, fromOrg } = await knownModules(deps.modules);
  const fromAddress = matchModule(web.webModule, list) ?? (fromOrg ? undefined : matchModule(web.webModule, STANDARD_MODULE_META));
  if (!fromAddress) {
    throw new InputError(`record_id: the web address names the module ${web.webModule}, which is not a module of this CRM; its modules are ${list.map((m) => m.api_name).join(", ")}`);
  }
  if (args.module_api_name) {
    const given = await resolveModule(args.module_api_name, deps.modules);
    if (given !== fromAddress) {
      throw new InputError(`module_api_name (${given}) and record_id's web address (${fromAddress}) name different modules: give one of them`);
    }
  }
  return { module_api_name: fromAddress, record_id: web.recordId };
}
