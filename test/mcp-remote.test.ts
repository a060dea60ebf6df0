// mcp-remote (how Claude Desktop reaches remote servers) signs in against the built bin serving
// `--demo --http --oauth`: its own discovery, registration and PKCE, its own callback listener. The
// browser step is the test's: mcp-remote prints the authorization URL (its browser opener is pointed
// at /bin/true) and the test walks our consent page and the demo sign-in to mcp-remote's callback.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { freePort, waitFor } from "./helpers.js";
import { signInWithBrowser } from "./oauth-helpers.js";

const BIN = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const MCP_REMOTE = fileURLToPath(new URL("../node_modules/mcp-remote/dist/proxy.js", import.meta.url));
const TIMEOUT = 60_000;



describe("mcp-remote signs in against --demo --http --oauth", () => {
  let server: ChildProcess;
  let serverErr = "";
  let mcpUrl = "";
  const configDir = mkdtempSync(join(tmpdir(), "mcp-remote-test-"));

  beforeAll(async () => {
    server = spawn(process.execPath, [BIN, "--demo", "--http", "--oauth", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stderr!.on("data", (chunk: Buffer) => (serverErr += chunk.toString("utf8")));
    mcpUrl = (await waitFor(() => serverErr, /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/, TIMEOUT))[1]!;
  }, TIMEOUT);

  afterAll(() => {
    server?.kill("SIGTERM");
    rmSync(configDir, { recursive: true, force: true });
  });

  it(
    "discovers, registers, signs Ravi in through the browser step, and calls tools as Ravi",
    async () => {
      const callbackPort = await freePort();
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [MCP_REMOTE, mcpUrl, String(callbackPort)],
        // Its token store in a fresh directory; "opening a browser" does nothing: the test is the browser.
        env: { PATH: "/usr/bin:/bin", HOME: configDir, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: "/bin/true" },
        stderr: "pipe",
      });
      let bridgeErr = "";
      transport.stderr?.on("data", (chunk: Buffer) => (bridgeErr += chunk.toString("utf8")));
      const client = new Client({ name: "mcp-remote-test", version: "1.0.0" });
      const connecting = client.connect(transport);

      const authorizationUrl = (await waitFor(() => bridgeErr, /Please authorize this client by visiting:\s+(\S+)/, TIMEOUT))[1]!;
      expect(new URL(authorizationUrl).origin).toBe(new URL(mcpUrl).origin);
      const back = await signInWithBrowser(authorizationUrl, { user: "ravi" });
      // Our server sends the browser to mcp-remote's own callback listener, code in hand.
      expect(`${back.hostname}:${back.port}${back.pathname}`).toBe(`localhost:${callbackPort}/oauth/callback`);
      expect(back.searchParams.get("code")).toBeTruthy();
      const delivered = await fetch(back.href);
      expect(delivered.status).toBe(200);

      await connecting;
      const lists = (await client.callTool({ name: "list_related_lists", arguments: { module_api_name: "Accounts" } })) as CallToolResult;
      expect(lists.isError).toBeFalsy();
      const listText = lists.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
      expect(listText).toContain("Contacts");
      // Ravi's own view: his profile cannot read Invoices, so Zoho does not list them.
      expect(listText).not.toContain("Invoices");
      const leads = (await client.callTool({
        name: "get_related_records",
        arguments: { module_api_name: "Campaigns", record_id: DEMO.campaignId, related_list_api_name: "Leads", fields: ["Full_Name"], converted: "both" },
      })) as CallToolResult;
      expect((leads.structuredContent as { count: number }).count).toBe(DEMO.campaignLeadCount - 1);
      await client.close();
      // No token of ours or Zoho's in the server's log.
      expect(serverErr).not.toMatch(/1000\.[0-9a-f]{32}\.[0-9a-f]{32}/);
      expect(serverErr).not.toMatch(/eyJhbGciOiJkaXIi[\w-]*\.\.[\w-]+\.[\w-]{40,}/);
    },
    TIMEOUT * 2,
  );
});

describe("the bin refuses an unusable --oauth setup before it starts", () => {
  function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stderr }));
    });
  }
  // The output of openssl rand -base64 32: a counting or repeated one is refused as not random.
  const secret = "q3Vd9Jw0mZ7tXe2LkR5pN8yHc1sGf4Ub6iOaTzWQhMo=";
  const zoho = { ZOHO_CLIENT_ID: "1000.X", ZOHO_CLIENT_SECRET: "canary-client-secret-5f1d2c3b4a69" };

  it.each([
    ["--oauth without --http", ["--oauth"], {}, /--oauth \(MCP_OAUTH=1\) needs --http/],
    ["MCP_OAUTH=1 without MCP_PUBLIC_URL", ["--http"], { MCP_OAUTH: "1", ...zoho, MCP_OAUTH_SECRET: secret }, /configuration error: MCP_PUBLIC_URL is missing/],
    ["no MCP_OAUTH_SECRET", ["--http", "--oauth"], { ...zoho, MCP_PUBLIC_URL: "https://crm.example.com" }, /configuration error: MCP_OAUTH_SECRET is missing/],
    ["a short MCP_OAUTH_SECRET", ["--http", "--oauth"], { ...zoho, MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: "c2hvcnQ=" }, /MCP_OAUTH_SECRET must be base64 that decodes to at least 32 bytes/],
    ["no ZOHO_CLIENT_SECRET", ["--http", "--oauth"], { ZOHO_CLIENT_ID: "1000.X", MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: secret }, /ZOHO_CLIENT_SECRET is missing: per-user sign-in/],
    ["a stray ZOHO_REFRESH_TOKEN", ["--http", "--oauth"], { ...zoho, ZOHO_REFRESH_TOKEN: "1000.r", MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: secret }, /ZOHO_REFRESH_TOKEN is not used with --oauth/],
    ["MCP_HTTP_TOKEN beside --oauth", ["--http", "--oauth"], { ...zoho, MCP_HTTP_TOKEN: "a-long-enough-token-123", MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: secret }, /MCP_HTTP_TOKEN and --oauth exclude each other/],
  ])("%s", async (_label, args, env, message) => {
    const { code, stderr } = await run(args, env as Record<string, string>);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain(zoho.ZOHO_CLIENT_SECRET);
  });
});
