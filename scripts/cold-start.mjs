#!/usr/bin/env node
// Cold start: spawn -> answered tools/list over stdio, for the tsc output and the esbuild bundle.
// Usage: node scripts/cold-start.mjs [runs=7]  (after npm run build). Prints the median per entry.
// The requests are written at spawn time (stdin buffers them), as a client that does not wait
// would; the clock stops when the tools/list answer arrives.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Number(process.argv[2] ?? 7);
const ENTRIES = {
  "node -e '' (floor)": ["-e", "process.stdin.once('data',()=>process.stdout.write('{\"id\":2}\\n'))"],
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

function once(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "ignore"] });
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      if (!/"id":2[,}]/.test(buffered)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      child.kill();
      child.once("exit", () => resolve(ms));
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
  process.stdout.write(`${label.padEnd(46)} median ${median(times[k]).toFixed(0)} ms  (${times[k].map((t) => t.toFixed(0)).join(", ")})\n`);
}
