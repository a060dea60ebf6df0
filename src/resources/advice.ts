import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError, ReadResourceRequestSchema, type ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";

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

type Handler = (request: unknown, extra: unknown) => Promise<ReadResourceResult>;

/**
 * A zohocrm:// URI that matches no template (a related list such as .../Leads/123/Notes) gets the
 * SDK's bare "Resource ... not found": the same -32602, with the advice added. The SDK keeps its
 * handler in a private map; this wraps it once, after every resource is registered.
 */
export function adviseOnUnknownResources(server: McpServer): void {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  const read = handlers.get("resources/read");
  if (!read) return;
  server.server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    try {
      return await read(request, extra);
    } catch (error) {
      const uri = request.params.uri;
      if (error instanceof McpError && error.code === ErrorCode.InvalidParams && uri.startsWith("zohocrm:") && / not found$/.test(error.message)) {
        throw invalidResourceUri(uri, "no such resource");
      }
      throw error;
    }
  });
}
