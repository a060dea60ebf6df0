import type { McpServer, RegisteredResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, ReadResourceRequestSchema } from "@modelcontextprotocol/sdk/types.js";

/** What a zohocrm:// resource is, said wherever a read is refused: models try related lists as URIs. */
export const RECORD_URI_ADVICE =
  "zohocrm://records/{module_api_name}/{record_id} reads one record, e.g. zohocrm://records/Leads/4876876000000376008 (the links tool results carry); an attachment or email under its parent: zohocrm://records/{module_api_name}/{record_id}/Attachments/{attachment_id} or .../Emails/{message_id}; a related list is read with get_related_records, not as a resource";

/**
 * Invalid input to resources/read: JSON-RPC -32602 (invalid params), with the advice. A plain Error
 * with a code, not McpError, whose message would carry "MCP error -32602:" twice once the client adds its own.
 */
export function invalidResourceUri(uri: string, why: string): Error & { code: number } {
  return Object.assign(new Error(`${uri}: ${why}. ${RECORD_URI_ADVICE}`), { code: ErrorCode.InvalidParams });
}

/**
 * resources/read, answered from our own templates through the SDK's public API: a zohocrm:// URI
 * that matches none (a related list such as .../Leads/123/Notes) gets the same -32602 the SDK
 * gives ("Resource ... not found"), with the advice added. The SDK installs its own handler when
 * the first resource is registered; this one replaces it, after every resource is registered. It
 * matches as the SDK does (the templates in order, the first whose URI template matches reads).
 */
export function adviseOnUnknownResources(server: McpServer, templates: RegisteredResourceTemplate[]): void {
  server.server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    if (!URL.canParse(request.params.uri)) throw invalidResourceUri(request.params.uri, "not a URI");
    const uri = new URL(request.params.uri);
    for (const template of templates) {
      if (!template.enabled) continue;
      const variables = template.resourceTemplate.uriTemplate.match(uri.toString());
      if (variables) return template.readCallback(uri, variables, extra);
    }
    throw invalidResourceUri(request.params.uri, "no such resource");
  });
}
