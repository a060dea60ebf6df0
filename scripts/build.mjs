#!/usr/bin/env node
// npm run build: tsc (type-check, and dist/ for the tests and scripts/demo.mjs), then esbuild bundles
// the bin into one ESM file with no runtime dependencies. Splitting keeps the demo CRM (reached
// only through `await import("./demo/crm.js")` in src/index.ts) in its own chunk, so a normal
// start never parses it.
import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE_DIR = join(root, "dist", "bundle");
const BUNDLE_ENTRY = join(BUNDLE_DIR, "zoho-crm-related-mcp.js");

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

rmSync(BUNDLE_DIR, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { "zoho-crm-related-mcp": "src/index.ts" },
  outdir: BUNDLE_DIR,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  // src/index.ts starts with `#!/usr/bin/env node`, and esbuild keeps an entry point's hashbang.
  // Some dependencies are CommonJS and call require() for Node built-ins: give ESM output a real one.
  plugins: [onlyEnglishZodLocale],
  banner: { js: 'import{createRequire as __cr}from"node:module";const require=__cr(import.meta.url);' },
});
chmodSync(BUNDLE_ENTRY, 0o755);

const outputs = Object.keys(result.metafile.outputs);
const bytes = outputs.reduce((sum, file) => sum + statSync(join(root, file)).size, 0);
const entryBytes = statSync(BUNDLE_ENTRY).size;
if (!readFileSync(BUNDLE_ENTRY, "utf8").startsWith("#!/usr/bin/env node\n")) throw new Error(`${BUNDLE_ENTRY} lost its #! line`);
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
process.stdout.write(
  `build: tsc -> dist/, esbuild -> ${relative(root, BUNDLE_ENTRY)} (${kb(entryBytes)}; ${outputs.length} files, ${kb(bytes)} in all)\n`,
);
