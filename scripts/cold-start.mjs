#!/usr/bin/env node
// Cold start: spawn -> answered tools/list over stdio, for the tsc output and the esbuild bundle.
// Usage: node scripts/cold-start.mjs [runs=7]  (after npm run build). Prints the median per entry.
// The requests are written at spawn time (stdin buffers them), as a client that does not wait
// would; the clock stops when the tools/list answer arrives.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv[2] ?? 7);
// Issue #5's yardstick: the smallest server one can write on the same SDK, unbundled.
const MINIMAL_SDK_SERVER = `
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
const server = new McpServer({ name: "minimal", version: "1.0.0" });
server.registerTool("echo", { description: "echo", inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: "text", text }] }));
await server.connect(new StdioServerTransport());`;
const ENTRIES = {
  "node -e (floor: no modules)": ["-e", "process.stdin.once('data',()=>process.stdout.write('{\"id\":2}\\n'))"],
  "minimal unbundled SDK server": ["--input-type=module", "-e", MINIMAL_SDK_SERVER],
  "tsc output (dist/index.js)": [join(root, "dist/index.js")],
  "bundle (dist/bundle/zoho-crm-related-mcp.js)": [join(root, "dist/bundle/zoho-crm-related-mcp.js")],
};
// Fake credentials: listing tools makes no Zoho request.
const env = { ...process.env, ZOHO_CLIENT_ID: "cold-start", ZOHO_CLIENT_SECRET: "cold-start", ZOHO_REFRESH_TOKEN: "cold-start" };
const requests = [
  { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cold-start", version: "1" } } },
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", id: 2, method: "tools/list" },
].map((m) => JSON.stringify(m) + "\n").join("");

/**
 * CPU time the child has used (user + system), from /proc on Linux: unlike wall time it barely
 * moves when other work shares the cores. NaN elsewhere.
 */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return Number.NaN;
  }
}

function once(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["pipe", "pipe", "ignore"] });
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      if (!/"id":2[,}]/.test(buffered)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const cpu = cpuMs(child.pid);
      child.kill();
      child.once("exit", () => resolve({ ms, cpu }));
    });
    child.once("error", reject);
    child.stdin.write(requests); // not end(): closing stdin tells a stdio server to stop
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const entries = Object.entries(ENTRIES);
for (const [, args] of entries) await once(args); // warm the file cache
// Interleaved rounds, so a burst of load on a shared machine hits every entry alike.
const times = entries.map(() => []);
for (let i = 0; i < runs; i++) for (const [k, [, args]] of entries.entries()) times[k].push(await once(args));
for (const [k, [label]] of entries.entries()) {
  const wall = median(times[k].map((t) => t.ms));
  const cpu = median(times[k].map((t) => t.cpu));
  process.stdout.write(`${label.padEnd(46)} wall median ${wall.toFixed(0).padStart(5)} ms   cpu median ${cpu.toFixed(0).padStart(5)} ms\n`);
}
