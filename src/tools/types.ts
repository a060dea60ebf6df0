import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { ZohoClient } from "../zoho/client.js";
import type { FieldCatalog, ModuleCatalog, RelatedListCatalog } from "../zoho/metadata.js";

/** What every tool may use: the one Zoho client and the caches around it. */
export interface ToolDeps {
  config: Config;
  client: ZohoClient;
  catalog: RelatedListCatalog;
  fieldCatalog: FieldCatalog;
  modules: ModuleCatalog;
  logger: Logger;
}

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A tool as a plain definition: adding one is a new file and one line in tools/index.ts. */
export interface ToolDefinition<In extends z.ZodObject = z.ZodObject> {
  name: string;
  /** What clients show people (connector directories ask for one). */
  title: string;
  description: string;
  inputSchema: In;
  outputSchema?: z.ZodRawShape;
  /** Its text can run long (rows of records): kept within ZOHO_RESULT_MAX_CHARS, and the size declared to clients. */
  budgeted?: boolean;
  handler: (args: z.output<In>, extra: ToolExtra, deps: ToolDeps) => Promise<CallToolResult>;
}

/**
 * Every tool here only reads, from a CRM outside this process, and answers the same twice.
 * destructiveHint only means something when readOnlyHint is false (spec 2025-11-25), but connector
 * directories ask for every hint to be explicit, so it is said.
 */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };

export function defineTool<In extends z.ZodObject>(tool: ToolDefinition<In>): ToolDefinition<In> {
  return tool;
}
