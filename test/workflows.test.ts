// The GitHub workflows cannot run here, so they are checked two ways: against GitHub's workflow
// schema by action-validator (from npm, a WebAssembly build of the Rust validator), and for the
// few things each one exists to do.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const validator = join(root, "node_modules", "@action-validator", "cli", "cli.mjs");
const validate = (file: string) => spawnSync(process.execPath, [validator, file], { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } });
const read = (name: string) => readFileSync(join(root, ".github", "workflows", name), "utf8");
const tmp = mkdtempSync(join(tmpdir(), "workflows-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe(".github/workflows", () => {
  it("the validator refuses a broken workflow (so its passes below mean something)", () => {
    const broken = join(tmp, "broken.yml");
    writeFileSync(broken, "name: x\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    stepz: []\n");
    const r = validate(broken);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Additional property 'stepz' is not allowed");
  });

  it.each(["ci.yml", "release.yml"])("%s passes action-validator", (name) => {
    const r = validate(join(root, ".github", "workflows", name));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("CI runs .ci/run on Node 20 and 22", () => {
    const ci = read("ci.yml");
    expect(ci).toMatch(/^\s+node: \[20, 22\]$/m);
    expect(ci).toContain("node-version: ${{ matrix.node }}");
    expect(ci).toMatch(/^\s+- run: bash \.ci\/run$/m);
    expect(execFileSync("git", ["ls-files", "-s", ".ci/run"], { cwd: root, encoding: "utf8" })).toMatch(/^100755 /); // executable in git
  });

  it("a tag releases: the suite, npm publish with provenance, the .mcpb attached to the release", () => {
    const release = read("release.yml");
    expect(release).toMatch(/^on:\n {2}push:\n {4}tags: \["v\*"\]$/m);
    expect(release).toMatch(/^ {2}id-token: write/m); // provenance needs the OIDC token
    expect(release).toMatch(/^ {2}contents: write/m);
    expect(release).toContain("bash .ci/run");
    expect(release).toContain("npm run pack"); // scripts/pack.mjs: dist/<name>-<version>.mcpb
    expect(release).toContain("npm publish --provenance --access public");
    expect(release).toMatch(/gh release create "\$GITHUB_REF_NAME" dist\/\*\.mcpb/);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.scripts.pack).toBe("node scripts/pack.mjs");
  });
});
