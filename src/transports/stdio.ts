import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { buildServer } from "../server.js";
import type { ToolDeps } from "../tools/types.js";

/**
 * One MCP server for the one client on the other end of stdin/stdout. The client closing our
 * stdin is how stdio servers are told to stop: `onEnd` is called then.
 */
export async function serveStdio(deps: ToolDeps, onEnd: () => void): Promise<{ close(): Promise<void> }> {
  const server = buildServer(deps);
  process.stdin.on("end", onEnd);
  await server.connect(new StdioServerTransport());
  return { close: () => server.close() };
}
