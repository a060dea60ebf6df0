#!/usr/bin/env node
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ConfigError, loadConfig, secretsOf, type Config } from "./config.js";
import { Logger, redact, registerSecret } from "./log.js";
import { SERVER_VERSION, buildServer, createDeps } from "./server.js";

const USAGE = `zoho-crm-related-mcp ${SERVER_VERSION}: MCP server for Zoho CRM related records (stdio)

  zoho-crm-related-mcp          serve MCP over stdio (settings from ZOHO_* environment variables)
  zoho-crm-related-mcp --demo   serve MCP over stdio against the built-in demo CRM (no Zoho account)
`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // --help and --version go to stderr too: stdout is reserved for JSON-RPC even here.
  if (args.includes("--help") || args.includes("-h")) return void process.stderr.write(USAGE);
  if (args.includes("--version")) return void process.stderr.write(`${SERVER_VERSION}\n`);
  const unknown = args.filter((a) => a !== "--demo");
  if (unknown.length) exit(2, `unknown argument ${unknown[0]}\n${USAGE}`);

  const logger = new Logger();
  const demo = args.includes("--demo") || process.env.ZOHO_DEMO === "1";
  let config: Config;
  let closeDemo = async () => {};
  try {
    if (demo) {
      // Loaded only in demo mode: a real deployment never pays for the demo CRM's code.
      const { startDemoCrm } = await import("./demo/crm.js");
      const crm = await startDemoCrm({ latencyMs: Number(process.env.ZOHO_DEMO_LATENCY_MS ?? 0) || 0 });
      closeDemo = () => crm.close();
      config = loadConfig({
        ...process.env,
        ZOHO_ACCESS_TOKEN: undefined,
        ZOHO_CLIENT_ID: "demo-client-id",
        ZOHO_CLIENT_SECRET: "demo-client-secret",
        ZOHO_REFRESH_TOKEN: "demo-refresh-token",
        ZOHO_ACCOUNTS_URL: crm.url,
        ZOHO_API_DOMAIN: crm.url,
      });
      logger.log("info", `demo mode: serving against the demo CRM at ${crm.url}`);
    } else {
      config = loadConfig();
    }
  } catch (error) {
    if (error instanceof ConfigError) exit(2, `configuration error: ${error.message}`);
    throw error;
  }
  for (const secret of secretsOf(config)) registerSecret(secret);

  const server = buildServer(createDeps(config, logger));
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => undefined);
    await closeDemo().catch(() => undefined);
    process.exit(0);
  };
  // The client closing our stdin is how stdio servers are told to stop.
  process.stdin.on("end", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  // One bad request must not take the server down with every other call in flight.
  process.on("unhandledRejection", (reason) => logger.log("error", `unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`));
  process.on("uncaughtException", (error) => logger.log("error", `uncaught exception: ${error.stack ?? error.message}`));

  await server.connect(transport);
  logger.log("info", demo ? "ready (stdio, demo CRM)" : `ready (stdio, ${config.dc.toUpperCase()} data center, ${config.environment})`);
}

function exit(code: number, message: string): never {
  process.stderr.write(`zoho-crm-related-mcp: ${redact(message)}\n`);
  process.exit(code);
}

main().catch((error: unknown) => exit(1, error instanceof Error ? error.message : String(error)));
