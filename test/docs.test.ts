// The README is the front door and docs/ the rest: this suite fails when a command they show or a
// link they hold stops working. Needs the build (`npm test` runs it first): the bin's --help is the
// authority on its flags, and the demo excerpt is compared with what `npm run demo` prints now.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const bin = join(root, pkg.bin["zoho-crm-related-mcp"]);
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const text = (page: string) => readFileSync(join(root, page), "utf8");

/** Markdown outside fenced code blocks, and the code (fenced blocks and inline spans) on its own. */
function split(markdown: string): { prose: string; code: string[] } {
  const prose: string[] = [];
  const code: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    else if (fenced) code.push(line);
    else {
      prose.push(line);
      for (const m of line.matchAll(/`([^`]+)`/g)) code.push(m[1]!);
    }
  }
  return { prose: prose.join("\n"), code };
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const { prose } = split(markdown);
  const slugs = new Set<string>();
  for (const m of prose.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
    let slug = base;
    for (let n = 1; slugs.has(slug); n++) slug = `${base}-${n}`;
    slugs.add(slug);
  }
  return slugs;
}

function links(markdown: string): string[] {
  return [...split(markdown).prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

describe("README.md and docs/", () => {
  it("the README is a front door: under 15 KB, and it links every docs page", () => {
    expect(statSync(join(root, "README.md")).size).toBeLessThan(15_000);
    const linked = new Set(links(text("README.md")));
    for (const page of pages.filter((p) => p.startsWith("docs/"))) expect(linked, `README.md links ${page}`).toContain(page);
  });

  it("every relative link points at a file (and heading) in the repository", () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const target of links(text(page))) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const file = path ? resolve(dirname(join(root, page)), path) : join(root, page);
        if (relative(root, file).startsWith("..")) broken.push(`${page}: ${target} leaves the repository`);
        else if (!existsSync(file)) broken.push(`${page}: ${target} does not exist`);
        else if (anchor && file.endsWith(".md") && !anchors(readFileSync(file, "utf8")).has(anchor)) broken.push(`${page}: ${target} has no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("names nothing outside the repository", () => {
    for (const page of pages) {
      expect(text(page), page).not.toMatch(/CONTRACT\.md|\.\.\/shared|\/work\//);
    }
  });

  it("every npm script the pages show exists in package.json", () => {
    const builtIn = new Set(["ci", "install", "pack", "publish", "test", "start", "exec", "link", "help", "install-scripts"]);
    const missing: string[] = [];
    let seen = 0;
    for (const page of pages) {
      for (const line of split(text(page)).code) {
        for (const m of line.matchAll(/\bnpm (run )?([a-z][\w:-]*)/g)) {
          seen++;
          const [, isRun, name] = m as unknown as [string, string | undefined, string];
          if (isRun ? !(name in pkg.scripts) : !builtIn.has(name) || (name === "test" && !pkg.scripts.test)) missing.push(`${page}: ${m[0]}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(seen).toBeGreaterThan(5); // the README's own two commands at least, so the scan itself works
    for (const script of ["test", "demo", "build", "pack", "bench", "docs:figures"]) expect(pkg.scripts, script).toHaveProperty([script]);
  });

  it("every flag and command of the bin the pages show is in its --help", () => {
    const help = execFileSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    const shown = new Set<string>();
    for (const page of pages) {
      for (const line of split(text(page)).code) {
        // What follows the bin's name (`zoho-crm-related-mcp` or its .js path) on the same line.
        for (const m of line.matchAll(/zoho-crm-related-mcp(?:\.js)?((?:\s+(?:--?[a-z][\w-]*|setup|doctor)(?:[ =][\w./:][\w./:-]*)?)+)/g)) {
          for (const word of m[1]!.matchAll(/(?<=\s)(--?[a-z][\w-]*|setup\b|doctor\b)/g)) shown.add(word[1]!);
        }
      }
    }
    expect([...shown]).toEqual(expect.arrayContaining(["--demo", "--http", "--port", "--help", "setup", "doctor"]));
    const unknown = [...shown].filter((word) => !new RegExp(`(?<![\\w-])${word}(?![\\w-])`).test(help));
    expect(unknown).toEqual([]);
  });

  it("docs/dependencies.md names every package whose engines leave out Node 20 (npm ci's EBADENGINE lines)", () => {
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; engines?: { node?: string } }> };
    // ">=22.19.0" or "^22..." in every alternative of the range: no 20.x satisfies it.
    const leavesOut20 = (range: string) => range.split("||").every((alt) => /^\s*(>=|\^)\s*v?(\d+)/.test(alt) && Number(/(\d+)/.exec(alt)![1]) > 20);
    const expected = Object.entries(lock.packages)
      .filter(([path, p]) => path && p.engines?.node && leavesOut20(p.engines.node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, "")} (\`${p.engines!.node}\`)`);
    expect(expected.length).toBeGreaterThan(0); // the scan itself works: the Inspector declares Node 22
    const section = text("docs/dependencies.md").split("## `npm ci` on Node 20")[1] ?? "";
    const listed = [...section.matchAll(/^\| `([^`]+)` [\d.x]+ \(`([^`]+)`\) \|/gm)].map((m) => `${m[1]} (\`${m[2]}\`)`);
    expect(listed.sort()).toEqual([...new Set(expected)].sort());
  });

  it("the demo excerpt in the README is what `npm run demo` prints now", () => {
    const readme = text("README.md");
    const start = readme.indexOf("```\n", readme.indexOf("The start of what `npm run demo` prints"));
    const excerpt = readme.slice(start + 4, readme.indexOf("\n```", start + 4)).split("\n");
    expect(excerpt.length).toBeGreaterThan(10);
    const demo = execFileSync(process.execPath, [join(root, "scripts", "demo.mjs")], { encoding: "utf8" }).split("\n");
    // The README shows the first lines of the tour, unchanged.
    expect(excerpt).toEqual(demo.slice(0, excerpt.length));
  }, 30_000); // the whole tour in a child process: over 5 s on a loaded machine
});
