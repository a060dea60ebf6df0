import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation";
import pLimit from "p-limit";
import { z } from "zod";
import type { Config } from "./config.js";
import { Logger, redact, type Level } from "./log.js";
import { registerWhatsRelatedPrompt } from "./prompts/whats-related.js";
import { adviseOnUnknownResources } from "./resources/advice.js";
import { registerRecordResource } from "./resources/record.js";
import { registerSubRecordResource } from "./resources/sub-record.js";
import { NO_SCHEMA_KEYWORD, OPEN } from "./tools/schemas.js";
import { TOOLS } from "./tools/index.js";
import { READ_ONLY, type ToolDeps } from "./tools/types.js";
import { ZohoClient, capOf, withSharedCap, type SharedCap } from "./zoho/client.js";
import { moduleNameCompleter } from "./zoho/modules.js";
import { InputError, ZohoError, deadlineExceeded } from "./zoho/errors.js";
import { FieldCatalog, ModuleCatalog, RelatedListCatalog, duringCall } from "./zoho/metadata.js";

export const SERVER_NAME = "zoho-crm-related-mcp";
export const SERVER_VERSION = "0.1.0";

/** Claude Code's per-tool result size hint, in characters (code.claude.com/docs, MCP: "Raise the limit for a specific tool"). */
export const RESULT_SIZE_META = "anthropic/maxResultSizeChars";

const INSTRUCTIONS =
  "Answers what is related to a Zoho CRM record (lead, contact, account, deal...). Given a name, email or phone, find the record with search_records first; a record id or a Zoho CRM web address goes straight to get_related_overview: every related list's count and first records in one call. get_related_records reads one list in full; get_open_activities / get_closed_activities read calls, tasks and meetings; list_related_lists names a module's lists. Each printed record comes with a zohocrm://records/{module}/{id} link: read it as a resource, or with get_record.";

/**
 * The SDK checks an elicitation's answer against its schema with Ajv, which it builds in every
 * server's constructor unless given another validator: this server never elicits, so it is given
 * one that says so, and the stdio bin leaves Ajv out (scripts/build.mjs; a cold start to tools/list
 * never needs it).
 */
const NO_ELICITATION: jsonSchemaValidator = {
  getValidator() {
    throw new Error("this server sends no elicitation requests: there is no answer to validate");
  },
};

/** The Zoho side of a server: one client (one token cache, one concurrency cap) per process. */
/** `sharedCap`: ZOHO_CONCURRENCY across replicas (MCP_REDIS_URL), around this process's own cap. */
export function createDeps(config: Config, logger = new Logger(), sharedCap?: SharedCap): ToolDeps {
  const client = new ZohoClient(config, logger, sharedCap ? { limit: withSharedCap(capOf(pLimit(config.concurrency)), sharedCap) } : undefined);
  return { config, client, catalog: new RelatedListCatalog(client), fieldCatalog: new FieldCatalog(client), modules: new ModuleCatalog(client), logger };
}

/** The one place where any thrown error becomes an isError result a model can act on. */
export function errorResult(error: unknown): CallToolResult {
  const text =
    error instanceof ZohoError
      ? error.render()
      : error instanceof InputError
        ? `Invalid input: ${error.message}`
        : `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
  return { isError: true, content: [{ type: "text", text: redact(text) }] };
}

/** `work`, or the signal's end: the client's cancellation as is, the deadline as DEADLINE_EXCEEDED. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, callTimeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof DOMException && signal.reason.name === "TimeoutError" ? deadlineExceeded(callTimeoutMs) : signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * `logging`: where logging notifications go. "session" (stdio): to the connected client, honouring
 * its logging/setLevel. "request" (stateless HTTP, where a per-request server never sees
 * initialize nor keeps a stream open): on the stream of the tool call that caused them.
 */
export function buildServer(deps: ToolDeps, options: { logging?: "session" | "request" } = {}): McpServer {
  const perRequest = options.logging === "request";
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION, title: "Zoho CRM related records" },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: NO_ELICITATION },
  );

  for (const tool of TOOLS) {
    const registered = server.registerTool(
      tool.name,
      {
        // Connector directories ask for a title people read; clients show it instead of the name.
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema.meta(NO_SCHEMA_KEYWORD),
        // Published open and without `required` at the top: every field named there is always
        // present (docs/tools.md), a field added later breaks no client, and these lines are
        // paid for in every tools/list. The SDK still checks each result against the full shape.
        ...(tool.outputSchema ? { outputSchema: z.object(tool.outputSchema).meta({ ...NO_SCHEMA_KEYWORD, ...OPEN }) } : {}),
        annotations: READ_ONLY,
        // Claude Code reads this from the tools/list entry and keeps a result up to it inline (its
        // own default is about 25,000 tokens; at most 500,000 characters): the budget we write to.
        ...(tool.budgeted ? { _meta: { [RESULT_SIZE_META]: deps.config.resultMaxChars } } : {}),
      },
      async (args: Record<string, unknown>, extra) => {
        try {
          // The SDK has validated args against tool.inputSchema by now. The call ends when the
          // client cancels it or when its deadline passes, whichever comes first: retries and
          // pagination never outlive it.
          const signal = AbortSignal.any([extra.signal, AbortSignal.timeout(deps.config.callTimeoutMs)]);
          // Racing the signal also ends the call while it waits on something shared that is not
          // tied to it (a metadata request other calls wait for too).
          const run = () => untilAborted(duringCall(signal, () => tool.handler(args as never, { ...extra, signal }, deps)), signal, deps.config.callTimeoutMs);
          if (!perRequest) return await run();
          const notify = (level: Level, data: string) =>
            void extra.sendNotification({ method: "notifications/message", params: { level, logger: SERVER_NAME, data } }).catch(() => undefined);
          return await deps.logger.during(notify, run);
        } catch (error) {
          // A cancelled call is the client's choice, not a failure worth an error line on stderr;
          // bad input and Zoho's refusals are the caller's to fix, not the server's errors.
          if (extra.signal.aborted) deps.logger.log("info", `${tool.name} cancelled by the client`);
          else deps.logger.log(error instanceof ZohoError || error instanceof InputError ? "warning" : "error", `${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`);
          return errorResult(error);
        }
      },
    );
    // The SDK writes execution: {taskSupport: "forbidden"} into every tools/list entry: that is
    // what a missing `execution` means already (spec 2025-11-25), at 35 characters a tool.
    registered.execution = undefined;
  }
  const completeModule = moduleNameCompleter(deps.modules);
  const record = registerRecordResource(server, deps.client, completeModule);
  const subRecord = registerSubRecordResource(server, deps.client, deps.config.maxAttachmentBytes, completeModule);
  adviseOnUnknownResources(server, [record, subRecord]);
  registerWhatsRelatedPrompt(server, completeModule);

  // Retries, refreshes and limits reach the client as logging notifications, once it has
  // introduced itself: nothing but the initialize answer may come before that.
  if (!perRequest) {
    server.server.onclose = deps.logger.attach((level, data) => {
      if (server.isConnected() && server.server.getClientVersion()) {
        void server.sendLoggingMessage({ level, logger: SERVER_NAME, data }).catch(() => undefined);
      }
    });
  }
  return server;
}
