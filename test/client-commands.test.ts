// Every client command line the README and docs/ show, run through that client's own argument
// parser, so a doc edit is tested as it reads: `claude mcp add` lines through Claude Code
// (`@anthropic-ai/claude-code`, with a throwaway HOME), MCP Inspector CLI lines through the
// Inspector, the `mcp-remote` entry through mcp-remote, and the stdio entries of the JSON
// configurations started as a client starts them. The lines are read from the pages, their
// placeholders (`/path/to/...tgz`, `https://mcp.example.com/mcp`, `<MCP_HTTP_TOKEN>`) replaced by a
// packed tarball and servers started here; a line with a placeholder this file does not know fails,
// so a new one cannot go unchecked. Needs the build (`npm test` runs it first).
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOLS } from "../src/tools/index.js";
import { waitFor } from "./helpers.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const BIN = join(root, pkg.bin["zoho-crm-related-mcp"]);
const CLAUDE_PACKAGE = join(root, "node_modules", "@anthropic-ai", "claude-code");
// The package's postinstall puts the native binary over bin/claude.exe; where install scripts did
// not run, that is a stub and the package's own wrapper starts the binary instead.
const CLAUDE = statSync(join(CLAUDE_PACKAGE, "bin", "claude.exe")).size > 1_000_000 ? [join(CLAUDE_PACKAGE, "bin", "claude.exe")] : [process.execPath, join(CLAUDE_PACKAGE, "cli-wrapper.cjs")];
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const TOOL_NAMES = TOOLS.map((t) => t.name);
// A child npm must not inherit the npm_* settings of the `npm test` that runs us.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
/** Claude Code, quiet: no update check, no telemetry, nothing beyond the servers it checks. */
const CLAUDE_ENV = { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1", DISABLE_TELEMETRY: "1", DISABLE_ERROR_REPORTING: "1" };

interface ShownLine {
  page: string;
  line: string;
}

/**
 * Command lines that start with `prefix`: in fenced blocks (a trailing `\` joins the next line) and,
 * with `inline`, in inline code spans of the prose.
 */
function commandLines(prefix: string, { inline }: { inline: boolean }): ShownLine[] {
  const found: ShownLine[] = [];
  for (const page of pages) {
    let fenced = false;
    let pending = "";
    for (const raw of readFileSync(join(root, page), "utf8").split("\n")) {
      if (raw.startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        const joined = pending + raw.trim();
        if (joined.endsWith("\\")) {
          pending = `${joined.slice(0, -1).trimEnd()} `;
          continue;
        }
        pending = "";
        if (joined.startsWith(prefix)) found.push({ page, line: joined });
      } else if (inline) {
        // A span that is the bare command name (`claude mcp add`) names it, it is no command line.
        for (const m of raw.matchAll(/`([^`]+)`/g)) if (m[1]!.startsWith(`${prefix} `)) found.push({ page, line: m[1]! });
      }
    }
  }
  return found;
}

/** POSIX shell words: '...' and "..." quoting, backslash escapes, `#` comments; no expansion. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "#" && word === undefined) break;
    else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = "";
      for (i++; i < line.length && line[i] !== '"'; i++) text += line[i] === "\\" && /["\\$`]/.test(line[i + 1] ?? "") ? line[++i] : line[i];
      if (i >= line.length) throw new Error(`unclosed " in: ${line}`);
      word = (word ?? "") + text;
    } else if (c === "\\") word = (word ?? "") + (line[++i] ?? "");
    else word = (word ?? "") + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Replaces every placeholder the docs use with a real thing; fails on one it does not know. */
function realise(line: string, real: Record<string, string>): string {
  let out = line;
  for (const [placeholder, value] of Object.entries(real)) out = out.replaceAll(placeholder, value);
  expect(out, `a placeholder of this line has no real value in ${fileURLToPath(import.meta.url)}: ${line}`).not.toMatch(/example\.com|\/path\/to\/|<[A-Z_]+>/);
  return out;
}


/** The bin serving `--demo --http` with `extra` flags; its URL once it listens. */
async function startHttp(extra: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, "--demo", "--http", "--port", "0", ...extra], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const url = (await waitFor(() => stderr, /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/, 30_000))[1]!;
  return { url, child };
}

let tmp: string;
let tarball: string;
let tokenServer: { url: string; child: ChildProcess };
let oauthServer: { url: string; child: ChildProcess };
const token = randomBytes(24).toString("hex");
/** Each placeholder the docs use, and what stands in for it here. */
let real: Record<string, string>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "client-commands-"));
  // npm test has just built: skip the prepack build here.
  const { stdout } = await promisify(execFile)("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: root, env: cleanEnv });
  tarball = join(tmp, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  [tokenServer, oauthServer] = await Promise.all([startHttp([], { MCP_HTTP_TOKEN: token }), startHttp(["--oauth"], {})]);
  real = {
    [`/path/to/${pkg.name}-${pkg.version}.tgz`]: tarball,
    [`./${pkg.name}-${pkg.version}.tgz`]: tarball,
    "https://mcp.example.com/mcp": tokenServer.url,
    "https://crm-mcp.example.com/mcp": oauthServer.url,
    "<MCP_HTTP_TOKEN>": token,
  };
}, 90_000);

afterAll(() => {
  tokenServer?.child.kill();
  oauthServer?.child.kill();
  rmSync(tmp, { recursive: true, force: true });
});

/** A fresh HOME and project folder, so each line is parsed as on a new machine. */
function freshHome(): { home: string; project: string } {
  const home = mkdtempSync(join(tmp, "home-"));
  const project = join(home, "project");
  mkdirSync(project);
  return { home, project };
}

function claude(args: string[], where: { home: string; project: string }) {
  return spawnSync(CLAUDE[0]!, [...CLAUDE.slice(1), ...args], {
    cwd: where.project,
    // The npx a stdio entry starts installs the tarball into a cache of its own, offline.
    env: { ...cleanEnv, ...CLAUDE_ENV, HOME: where.home, npm_config_cache: join(where.home, "npm-cache"), npm_config_offline: "true" },
    encoding: "utf8",
    timeout: 60_000,
  });
}

/** The servers Claude Code wrote, whatever the scope: user, local (per project) or project (.mcp.json). */
function claudeServers(where: { home: string; project: string }): Record<string, Record<string, unknown>> {
  const state = JSON.parse(readFileSync(join(where.home, ".claude.json"), "utf8"));
  const projectFile = join(where.project, ".mcp.json");
  return {
    ...state.mcpServers,
    ...state.projects?.[where.project]?.mcpServers,
    ...(existsSync(projectFile) ? JSON.parse(readFileSync(projectFile, "utf8")).mcpServers : {}),
  };
}

/** What the line means to a reader: the entry Claude Code should write for it. */
function intended(words: string[]): { name: string; entry: Record<string, unknown> } {
  const dashes = words.indexOf("--");
  const options = dashes < 0 ? words : words.slice(0, dashes);
  const values = (...flags: string[]) => options.flatMap((w, i) => (flags.includes(w) ? [options[i + 1]!] : []));
  const env = Object.fromEntries(values("--env", "-e").map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
  const headers = Object.fromEntries(values("--header", "-H").map((h) => [h.slice(0, h.indexOf(":")).trim(), h.slice(h.indexOf(":") + 1).trim()]));
  const transport = values("--transport", "-t")[0] ?? "stdio";
  if (dashes >= 0) return { name: "zoho-crm", entry: { type: "stdio", command: words[dashes + 1], args: words.slice(dashes + 2), env } };
  return { name: "zoho-crm", entry: { type: transport, url: options.find((w) => /^https?:\/\//.test(w)), ...(Object.keys(headers).length ? { headers } : {}) } };
}

describe("claude mcp add, as the docs show it", () => {
  const lines = commandLines("claude mcp add", { inline: true });

  it("the docs show the stdio line with secrets and the two remote ones", () => {
    expect(lines.map((l) => l.page)).toEqual(expect.arrayContaining(["README.md", "docs/remote.md", "docs/remote-oauth.md"]));
    expect(lines.some((l) => / -- /.test(l.line) && /--env|-e /.test(l.line))).toBe(true);
  });

  it.each(lines.map((l) => [`${l.page}: ${l.line}`, l] as const))("%s: Claude Code writes the entry the line means", (_label, { line }) => {
    const words = shellWords(line);
    const where = freshHome();
    const run = claude(words.slice(1), where);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const { name, entry } = intended(words);
    // The name setup writes and doctor --client claude-code looks for.
    expect(Object.keys(claudeServers(where))).toEqual([name]);
    expect(claudeServers(where)[name]).toEqual(entry);
  });

  it.each(lines.map((l) => [`${l.page}: ${l.line}`, l] as const))("%s: claude mcp list reaches the server it adds", (_label, { line }) => {
    const words = shellWords(realise(line, real));
    const where = freshHome();
    expect(claude(words.slice(1), where).status).toBe(0);
    const list = claude(["mcp", "list"], where);
    expect(list.status, list.stderr).toBe(0);
    // A server that signs users in cannot connect before someone does: Claude Code says so.
    const health = words.some((w) => w === oauthServer.url) ? "Needs authentication" : "Connected";
    expect(list.stdout).toMatch(new RegExp(`^zoho-crm: .* - \\S+ ${health}$`, "m"));
  }, 60_000);

  it("the order the README once showed fails in Claude Code's parser: -e takes several values and swallows the name", () => {
    const where = freshHome();
    const run = claude(["mcp", "add", "--transport", "stdio", "--env", "ZOHO_DC=eu", "zoho-crm", "--", "npx", "-y", "zoho-crm-related-mcp"], where);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("Invalid environment variable format: zoho-crm");
  });
});

describe("the MCP Inspector CLI, as the docs show it", () => {
  // Whole command lines only: the prose names the CLI in code spans too.
  const lines = commandLines("npx @modelcontextprotocol/inspector", { inline: false });
  const inspect = (words: string[]) =>
    spawnSync(words[0]!, words.slice(1), {
      // The Inspector keeps a catalog of servers in HOME: a throwaway one. Offline npx: the
      // Inspector and mcp-remote are this checkout's own.
      cwd: root,
      env: { ...cleanEnv, HOME: mkdtempSync(join(tmp, "inspector-")), npm_config_offline: "true", npm_config_update_notifier: "false" },
      encoding: "utf8",
      timeout: 60_000,
    });

  it("the docs show a stdio call with a record id, and the remote forms", () => {
    expect(lines.some((l) => l.line.includes("record_id"))).toBe(true);
    expect(lines.some((l) => l.line.includes("mcp-remote"))).toBe(true);
    expect(lines.some((l) => l.line.includes("--header") && !l.line.includes("mcp-remote"))).toBe(true);
  });

  it.each(lines.map((l) => [`${l.page}: ${l.line}`, l] as const))("%s: answers without an error", (_label, { line }) => {
    const run = inspect(shellWords(realise(line, real)));
    expect(run.status, run.stderr).toBe(0);
    const answer = JSON.parse(run.stdout) as { tools?: Array<{ name: string }>; isError?: boolean; content?: unknown[] };
    if (answer.tools) expect(answer.tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    else {
      expect(answer.isError, run.stdout).toBeFalsy();
      expect(answer.content?.length).toBeGreaterThan(0);
    }
  }, 60_000);

  it("the forms the docs warn against fail as they say", () => {
    const call = ["npx", "@modelcontextprotocol/inspector", "--cli", "--method", "tools/call", "--tool-name", "get_related_records"];
    // An unquoted id is sent as a JSON number: the server refuses it.
    const unquoted = inspect([...call, "--tool-arg", "module_api_name=Leads", "record_id=4876876000000376008", "related_list_api_name=Notes", "--", process.execPath, BIN, "--demo"]);
    expect(unquoted.stdout).toMatch(/must be a string.*record_id/);
    // --tool-arg takes several values: without `--`, the server command is read as one.
    const noDashes = inspect([...call, "--tool-arg", "module_api_name=Leads", "related_list_api_name=Notes", process.execPath, BIN, "--demo"]);
    expect(noDashes.status).not.toBe(0);
    expect(noDashes.stdout + noDashes.stderr).toContain("Use key=value format");
    // --header takes several values too: the URL after it is read as a header.
    const headerFirst = inspect(["npx", "@modelcontextprotocol/inspector", "--cli", "--method", "tools/list", "--header", `Authorization: Bearer ${token}`, tokenServer.url]);
    expect(headerFirst.status).not.toBe(0);
    // mcp-remote without `--`: the Inspector takes --header, and mcp-remote arrives with no token.
    const remoteNoDashes = inspect(["npx", "@modelcontextprotocol/inspector", "--cli", "--method", "tools/list", "npx", "-y", "mcp-remote", tokenServer.url, "--header", `Authorization: Bearer ${token}`]);
    expect(remoteNoDashes.status).not.toBe(0);
    expect(remoteNoDashes.stderr).not.toContain("Using custom headers");
  }, 90_000);
});

describe("the JSON configurations the docs show (Claude Desktop, Cursor, VS Code)", () => {
  // Those clients cannot run here; what they do with an entry is start its command with its env.
  const entries = pages.flatMap((page) =>
    [...readFileSync(join(root, page), "utf8").matchAll(/```json\n([\s\S]*?)\n```/g)].flatMap((m) => {
      const config = JSON.parse(m[1]!) as { mcpServers?: Record<string, unknown>; servers?: Record<string, unknown> };
      return Object.entries(config.mcpServers ?? config.servers ?? {}).map(([name, entry]) => ({ page, name, entry: entry as { command?: string; args?: string[]; env?: Record<string, string> } }));
    }),
  );
  const local = entries.filter((e) => e.entry.command && !e.entry.args?.includes("mcp-remote"));

  it("the README shows the Claude Desktop/Cursor and the VS Code entries", () => {
    expect(local.filter((e) => e.page === "README.md").length).toBeGreaterThanOrEqual(2);
  });

  it.each(local.map((e, i) => [`${e.page}, entry ${i + 1} (${e.name}: ${[e.entry.command, ...(e.entry.args ?? [])].join(" ")})`, e] as const))("%s starts the server and lists its tools", async (_label, { entry }) => {
    const home = mkdtempSync(join(tmp, "json-entry-"));
    // VS Code asks for each ${input:...} and puts the answer in its place.
    const env = Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, v.replace(/\$\{input:[\w-]+\}/g, "typed-by-the-user")]));
    const transport = new StdioClientTransport({
      command: entry.command!,
      args: (entry.args ?? []).map((a) => realise(a, real)),
      cwd: home,
      env: { PATH: process.env.PATH ?? "", HOME: home, npm_config_cache: join(home, "npm-cache"), npm_config_offline: "true", ...env },
      stderr: "pipe",
    });
    const client = new Client({ name: "client-commands-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe("the mcp-remote entry of docs/remote.md", () => {
  it("reaches the token-protected server with the header from the environment", async () => {
    const doc = readFileSync(join(root, "docs", "remote.md"), "utf8");
    const block = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]!)).find((j) => JSON.stringify(j).includes("mcp-remote"));
    const { command, args, env } = block.mcpServers["zoho-crm"] as { command: string; args: string[]; env: Record<string, string> };
    // "For a server on the same machine over plain HTTP, add "--allow-http" after the URL".
    const realArgs = args.map((a) => realise(a, real));
    realArgs.splice(realArgs.indexOf(tokenServer.url) + 1, 0, "--allow-http");
    const transport = new StdioClientTransport({
      command,
      args: realArgs,
      cwd: root,
      env: { ...cleanEnv, HOME: mkdtempSync(join(tmp, "mcp-remote-")), npm_config_offline: "true", ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, realise(v, real)])) },
      stderr: "pipe",
    });
    const client = new Client({ name: "client-commands-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    } finally {
      await client.close();
    }
  }, 60_000);
});
