// The MCP Inspector's own portability check, run the way a user runs it: `npx
// @modelcontextprotocol/inspector --cli --strict --method tools/list <our server>`. It reports tool
// schemas that some clients reject or read differently (`["string","null"]` types that single-type
// dialects such as Gemini's cannot take, schemas that constrain nothing); we want none of them.
// Inspector 2.12 declares Node 22 but runs on Node 20 (FIELD-NOTES); `npm test` builds dist/ first.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const INSPECTOR = join(ROOT, "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
const BIN = join(ROOT, "dist/index.js");

it("MCP Inspector --strict finds no portability problem in tools/list", () => {
  // The Inspector keeps a catalog of servers in the home directory: give it a throwaway one.
  const home = mkdtempSync(join(tmpdir(), "inspector-"));
  try {
    const run = spawnSync(process.execPath, [INSPECTOR, "--cli", "--strict", "--method", "tools/list", process.execPath, BIN, "--demo"], {
      env: { ...process.env, HOME: home, MCP_CATALOG_PATH: join(home, "mcp.json") },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const tools = (JSON.parse(run.stdout) as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    expect(tools).toEqual(["search_records", "get_related_overview", "get_related_records", "get_open_activities", "get_closed_activities", "list_related_lists", "get_record"]);
    // Our server's own stderr lines start with its name; anything else is the Inspector's report.
    const findings = run.stderr.split("\n").filter((l) => l.trim() && !l.startsWith("[zoho-crm-related-mcp]"));
    expect(findings).toEqual([]);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}, 90_000);
