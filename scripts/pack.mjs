#!/usr/bin/env node
// npm run pack (npm runs the prepack build first): stages what Claude Desktop needs — the bundle,
// manifest.json and a package.json without dependencies, since esbuild inlined them all — and packs
// it into a .mcpb with the official CLI. Usage: node scripts/pack.mjs [output directory = dist]
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = resolve(process.argv[2] ?? join(root, "dist"));
const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
if (manifest.version !== pkg.version) throw new Error(`manifest.json version ${manifest.version} differs from package.json ${pkg.version}`);

const entry = join(root, manifest.server.entry_point);
if (!existsSync(entry)) throw new Error(`${manifest.server.entry_point} is missing: run npm run build first`);

const stage = join(outDir, "mcpb-stage");
rmSync(stage, { recursive: true, force: true });
// Same relative layout as the repository, so the one manifest.json serves both.
cpSync(dirname(entry), join(stage, dirname(manifest.server.entry_point)), { recursive: true });
cpSync(join(root, "manifest.json"), join(stage, "manifest.json"));
const { name, version, description, type, license, engines } = pkg;
writeFileSync(join(stage, "package.json"), JSON.stringify({ name, version, description, type, license, engines }, null, 2) + "\n");

mkdirSync(outDir, { recursive: true });
const output = join(outDir, `${name}-${version}.mcpb`);
// The package's exports hide its bin: find it beside the main entry (dist/index.js).
const mcpb = join(dirname(fileURLToPath(import.meta.resolve("@anthropic-ai/mcpb"))), "cli", "cli.js");
try {
  // The CLI validates the manifest itself and reports each file: keep that for failures only.
  execFileSync(process.execPath, [mcpb, "pack", stage, output], { stdio: "pipe" });
} catch (error) {
  process.stderr.write(`${error.stdout ?? ""}${error.stderr ?? ""}`);
  throw new Error("mcpb pack failed");
}
rmSync(stage, { recursive: true, force: true });
process.stdout.write(`pack: ${relative(process.cwd(), output) || output} (${(statSync(output).size / 1024).toFixed(0)} KB)\n`);
