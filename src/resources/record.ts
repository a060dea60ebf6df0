import { ResourceTemplate, type McpServer, type RegisteredResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { API_NAME, RECORD_ID, crmPath, type ZohoClient } from "../zoho/client.js";
import { ZohoError } from "../zoho/errors.js";
import { notInModule } from "../zoho/record-check.js";
import { invalidResourceUri } from "./advice.js";

export const RECORD_URI_TEMPLATE = "zohocrm://records/{module_api_name}/{record_id}";

/** Drops nulls and empty values: a model reading a record does not need Zoho's blank fields. */
export function compact(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && v.length === 0)));
}

/**
 * One record through Get Record (`GET /crm/v7/{module}/{id}`), its empty fields left out: what the
 * resource template and get_record read. Errors leave as ZohoError.
 */
export async function readRecord(client: ZohoClient, module: string, id: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> | null;
  try {
    ({ body } = await client.get(crmPath({ apiName: module }, { recordId: id }), { signal }));
  } catch (error) {
    // Zoho's INVALID_DATA for an id it cannot find in the module: the record, not a related list.
    if (error instanceof ZohoError && error.code === "INVALID_DATA" && error.details.param_name === undefined) throw notInModule(module, id, error);
    throw error;
  }
  const record = Array.isArray(body?.data) ? (body.data[0] as Record<string, unknown> | undefined) : undefined;
  if (!record) throw notInModule(module, id);
  return compact(record);
}

/** zohocrm://records/{module}/{id}: every resource link the tools hand out resolves here, via Get Record. */
export function registerRecordResource(server: McpServer, client: ZohoClient, completeModule: (typed: string | undefined) => Promise<string[]>): RegisteredResourceTemplate {
  return server.registerResource(
    "zoho_record",
    new ResourceTemplate(RECORD_URI_TEMPLATE, { list: undefined, complete: { module_api_name: completeModule } }),
    {
      title: "Zoho CRM record",
      description: "One Zoho CRM record, read through Get Record (GET /crm/v7/{module}/{id}).",
      mimeType: "application/json",
    },
    async (uri, variables, extra) => {
      const module = String(variables.module_api_name ?? "");
      const id = String(variables.record_id ?? "");
      if (!API_NAME.test(module)) throw invalidResourceUri(uri.href, "module_api_name must be a module API name: letters, digits and _ only");
      if (!RECORD_ID.test(id)) throw invalidResourceUri(uri.href, "record_id must be a Zoho record id: digits only");
      try {
        const record = await readRecord(client, module, id, extra.signal);
        return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(record, null, 1) }] };
      } catch (error) {
        // Resource reads have no isError result: the error's text is what the client shows.
        throw error instanceof ZohoError ? new Error(error.render()) : error;
      }
    },
  );
}
