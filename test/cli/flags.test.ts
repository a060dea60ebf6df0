// --help and --version do not serve MCP, so they answer on stdout like any command-line tool
// (issue 11); the bundle is what users run. Needs the build (`npm test` runs it first).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const BIN = fileURLToPath(new URL(`../../${pkg.bin["zoho-crm-related-mcp"]}`, import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });

describe("--help and --version", () => {
  it("--version prints the version on stdout, nothing on stderr, exit 0", () => {
    const r = run("--version");
    expect([r.status, r.stdout, r.stderr]).toEqual([0, `${pkg.version}\n`, ""]);
  });

  it("--help and -h print the usage on stdout, exit 0", () => {
    for (const flag of ["--help", "-h"]) {
      const r = run(flag);
      expect(r.status, flag).toBe(0);
      expect(r.stderr, flag).toBe("");
      expect(r.stdout, flag).toMatch(/^zoho-crm-related-mcp \d+\.\d+\.\d+: /);
      expect(r.stdout, flag).toContain("--http [--port N] [--host H]");
    }
  });

  it("an unknown flag is refused on stderr with the usage, exit 2, stdout empty", () => {
    const r = run("--bogus");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Unknown option '--bogus'");
  });
});
