#!/usr/bin/env node
// npm run build: tsc (type-check, and dist/ for the tests and scripts/demo.mjs), then esbuild bundles
// the bin, with no runtime dependencies, twice:
// - dist/bundle/zoho-crm-related-mcp.js, the bin: the stdio server (and the demo CRM for --demo) in
//   one file, so that file alone is a working server. The HTTP transport, per-user sign-in, `setup`
//   and `doctor` are left out (stubs that throw if reached); src/index.ts hands those commands to
// - dist/bundle/full/: the whole program, split into chunks loaded on demand (express and the
//   sign-in pages only with --http, the prompts only with setup).
// One file with everything (no splitting) was measured too: about 1.5 times the CPU of a cold start
// to tools/list, for parsing code stdio never runs.
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE_DIR = join(root, "dist", "bundle");
const BUNDLE_ENTRY = join(BUNDLE_DIR, "zoho-crm-related-mcp.js");
const FULL_DIR = join(BUNDLE_DIR, "full");

const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json")], { cwd: root, stdio: "inherit" });
chmodSync(join(root, "dist", "index.js"), 0o755);

/**
 * zod re-exports all of its ~50 message locales as a namespace the SDK keeps reachable, so esbuild
 * cannot drop them: about half of zod's weight in the bundle. Only English is ever configured.
 */
const onlyEnglishZodLocale = {
  name: "only-english-zod-locale",
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
    }));
  },
};

/** The modules only `--http`, `setup`, `doctor` and MCP_REDIS_URL load: the stdio bin hands those to full/. */
const NOT_STDIO = /[\\/]src[\\/](transports[\\/]http|oauth[\\/]http|cli[\\/]setup|cli[\\/]doctor|redis[\\/]index|redis[\\/]settings)\.ts$/;
const leaveOutNotStdio = {
  name: "leave-out-not-stdio",
  setup(b) {
    b.onLoad({ filter: NOT_STDIO }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${relative(root, args.path)} is not in the stdio bin: src/index.ts hands this command to full/`)});`,
      loader: "js",
    }));
  },
};

/**
 * Two things a cold start (spawn to an answered tools/list) would otherwise pay for and never use:
 * - Ajv (and its formats), which the SDK's server imports to check elicitation answers: this server
 *   never elicits and gives the SDK a validator that says so (src/server.ts), so the stdio bin
 *   bundles a stand-in that throws if it were ever built. About a fifth of the bin.
 * - zod 3 and zod-to-json-schema, which the SDK keeps for servers that hand it zod 3 schemas: every
 *   schema here is zod 4 (the SDK converts those with zod's own toJSONSchema), so the bin bundles
 *   stand-ins that throw if ever called. About a seventh of the bin, evaluated at every start.
 * - node:http and node:crypto, which only the demo CRM uses: ESM output hoists every import of a
 *   built-in to the top of the file, where it loads at every start even though the demo CRM's own
 *   code runs only with --demo. Required instead, they load when the demo CRM is imported.
 */
const AJV_PROVIDER = /[\\/]@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]validation[\\/]ajv-provider\.js$/;
const onlyWhatStartNeeds = {
  name: "only-what-start-needs",
  setup(b) {
    b.onLoad({ filter: AJV_PROVIDER }, () => ({
      contents: 'export class AjvJsonSchemaValidator { constructor() { throw new Error("Ajv is not in the stdio bin: give the server a jsonSchemaValidator (src/server.ts)"); } }',
      loader: "js",
    }));
    b.onLoad({ filter: /[\\/]zod[\\/]v3[\\/]index\.js$/ }, () => ({
      contents: 'export function object() { throw new Error("zod 3 is not in the stdio bin: its schemas are zod 4"); }',
      loader: "js",
    }));
    b.onLoad({ filter: /[\\/]zod-to-json-schema[\\/]dist[\\/]esm[\\/]index\.js$/ }, () => ({
      contents: 'export function zodToJsonSchema() { throw new Error("zod-to-json-schema (zod 3) is not in the stdio bin: its schemas are zod 4"); }',
      loader: "js",
    }));
    b.onResolve({ filter: /^node:/ }, (args) => (/[\\/]src[\\/]demo[\\/]/.test(args.importer) ? { path: args.path, namespace: "demo-builtin" } : undefined));
    b.onLoad({ filter: /.*/, namespace: "demo-builtin" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

const common = {
  absWorkingDir: root,
  entryPoints: { "zoho-crm-related-mcp": "src/index.ts" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  // src/index.ts starts with `#!/usr/bin/env node`, and esbuild keeps an entry point's hashbang.
  // Some dependencies are CommonJS and call require() for Node built-ins: give ESM output a real one.
  banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
};

rmSync(BUNDLE_DIR, { recursive: true, force: true });
const results = [
  await build({ ...common, outdir: BUNDLE_DIR, plugins: [onlyEnglishZodLocale, leaveOutNotStdio, onlyWhatStartNeeds], define: { __STDIO_BIN__: "true" } }),
  await build({ ...common, outdir: FULL_DIR, chunkNames: "chunks/[name]-[hash]", splitting: true, plugins: [onlyEnglishZodLocale], define: { __STDIO_BIN__: "false" } }),
];
chmodSync(BUNDLE_ENTRY, 0o755);
const stdioInputs = Object.keys(results[0].metafile.inputs);
const leftIn = stdioInputs.filter((file) => /[\\/](express|@inquirer|ioredis|ajv|ajv-formats)[\\/]|[\\/]zod[\\/]v3[\\/](?!index\.js$)|[\\/]zod-to-json-schema[\\/]dist[\\/]esm[\\/](?!index\.js$)/.test(file));
if (leftIn.length) throw new Error(`the stdio bin bundles what it never runs: ${leftIn.slice(0, 3).join(", ")}`);

const outputs = results.flatMap((result) => Object.keys(result.metafile.outputs));
const bytes = outputs.reduce((sum, file) => sum + statSync(join(root, file)).size, 0);
const entryBytes = statSync(BUNDLE_ENTRY).size;
if (!readFileSync(BUNDLE_ENTRY, "utf8").startsWith("#!/usr/bin/env node\n")) throw new Error(`${BUNDLE_ENTRY} lost its #! line`);
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
process.stdout.write(
  `build: tsc -> dist/, esbuild -> ${relative(root, BUNDLE_ENTRY)} (stdio, one file: ${kb(entryBytes)}) and ${relative(root, FULL_DIR)}/; ${outputs.length} files, ${kb(bytes)} in all\n`,
);
