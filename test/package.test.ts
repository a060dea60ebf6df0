// What users install: the MCPB manifest, the .mcpb Claude Desktop unpacks and starts, and the npm
// tarball `npx zoho-crm-related-mcp` runs. Needs the build (`npm test` runs it first).
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { getMcpConfigForManifest } from "@anthropic-ai/mcpb/node";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { TOOLS } from "../src/tools/index.js";
import { SERVER_VERSION } from "../src/server.js";
import { whatsRelatedText } from "../src/prompts/whats-related.js";
import { CANARY } from "./helpers.js";

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8"));
const mcpbCli = join(dirname(fileURLToPath(import.meta.resolve("@anthropic-ai/mcpb"))), "cli", "cli.js");
// A child npm must not inherit the npm_* settings of the `npm test` that runs us.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "zoho-pkg-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Connects the SDK's client to a spawned server, lists the tools and reads the demo lead. */
async function exercise(transport: StdioClientTransport): Promise<{ tools: string[]; notes: CallToolResult; stderr: string }> {
  let stderr = "";
  transport.stderr?.on("data", (chunk) => (stderr += String(chunk)));
  const client = new Client({ name: "package-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const notes = (await client.callTool({
      name: "get_related_records",
      arguments: { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" },
    })) as CallToolResult;
    return { tools, notes, stderr };
  } finally {
    await client.close();
  }
}

describe("manifest.json", () => {
  it("passes the official mcpb validate", async () => {
    const { stdout } = await run(process.execPath, [mcpbCli, "validate", join(root, "manifest.json")]);
    expect(stdout).toContain("validation passes");
  });

  it("matches package.json and lists every tool the server offers, each with a description", () => {
    expect(manifest.version).toBe(pkg.version);
    expect(SERVER_VERSION).toBe(pkg.version); // what initialize reports

    expect(manifest.server.entry_point).toBe(pkg.bin["zoho-crm-related-mcp"]);
    const listed = new Map<string, string>(manifest.tools.map((t: { name: string; description: string }) => [t.name, t.description]));
    expect([...listed.keys()].sort()).toEqual(TOOLS.map((t) => t.name).sort());
    for (const tool of TOOLS) expect(listed.get(tool.name), tool.name).toMatch(/\w/);
    for (const key of ["client_secret", "refresh_token"]) expect(manifest.user_config[key].sensitive, key).toBe(true);
    // MCPB has no conditional fields: with a demo switch, no secret can be required by the form.
    for (const key of ["client_id", "client_secret", "refresh_token"]) expect(manifest.user_config[key].required, key).toBe(false);
    expect(manifest.user_config.demo).toMatchObject({ type: "boolean", default: false, required: false });
    expect(manifest.server.mcp_config.env.ZOHO_DEMO).toBe("${user_config.demo}");
  });

  it("lists the whats_related prompt with the server's own text", () => {
    expect(manifest.prompts).toEqual([
      {
        name: "whats_related",
        description: expect.stringMatching(/\w/),
        arguments: ["record", "module_api_name"],
        text: whatsRelatedText("${arguments.record}", "${arguments.module_api_name}", true),
      },
    ]);
  });
});

describe("the .mcpb bundle", () => {
  let extensionPath: string;
  let mcpbFile: string;

  beforeAll(async () => {
    await run(process.execPath, [join(root, "scripts/pack.mjs"), tmp]);
    mcpbFile = join(tmp, `${pkg.name}-${pkg.version}.mcpb`);
    extensionPath = join(tmp, "unpacked");
    await run(process.execPath, [mcpbCli, "unpack", mcpbFile, extensionPath]);
  }, 60_000);

  it("the mcpb lines docs/releasing.md shows work as shown; validate refuses the .mcpb itself", async () => {
    // A checkout's layout: manifest.json at the top, the .mcpb where `npm run pack` writes it.
    const checkout = join(tmp, "checkout");
    mkdirSync(join(checkout, "dist"), { recursive: true });
    cpSync(join(root, "manifest.json"), join(checkout, "manifest.json"));
    cpSync(mcpbFile, join(checkout, "dist", `${pkg.name}-${pkg.version}.mcpb`));
    const doc = readFileSync(join(root, "docs", "releasing.md"), "utf8");
    const lines = doc.split("\n").filter((l) => l.startsWith("npx mcpb "));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      for (const command of line.split(" && ")) {
        const [, , sub, ...args] = command.trim().split(/\s+/);
        const { stdout } = await run(process.execPath, [mcpbCli, sub!, ...args], { cwd: checkout });
        if (sub === "validate") expect(stdout, command).toContain("validation passes");
        if (sub === "info") expect(stdout, command).toContain(`${pkg.name}-${pkg.version}.mcpb`);
      }
    }
    const wrong = spawnSync(process.execPath, [mcpbCli, "validate", mcpbFile], { encoding: "utf8" });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout + wrong.stderr).toContain("Invalid JSON in manifest file");
  }, 30_000);

  it("holds the bundle, the manifest and a package.json without dependencies, nothing else", () => {
    const files = readdirSync(extensionPath, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(extensionPath.length + 1).replaceAll("\\", "/"))
      .sort();
    expect(files).toContain(manifest.server.entry_point);
    for (const file of files) expect(file).toMatch(/^(manifest\.json|package\.json|dist\/bundle\/.+\.js)$/);
    const staged = JSON.parse(readFileSync(join(extensionPath, "package.json"), "utf8"));
    expect(staged.dependencies).toBeUndefined();
    expect(existsSync(join(extensionPath, "node_modules"))).toBe(false);
  });

  // Claude Desktop's substitution, from the same library: ${__dirname}, then user_config (with the manifest's defaults).
  const desktopConfig = (userConfig: Record<string, string | number | boolean>, secrets = true) =>
    getMcpConfigForManifest({
      manifest: JSON.parse(readFileSync(join(extensionPath, "manifest.json"), "utf8")),
      extensionPath,
      systemDirs: { HOME: tmp, DESKTOP: tmp, DOCUMENTS: tmp, DOWNLOADS: tmp },
      userConfig: { ...(secrets ? { client_id: CANARY.clientId, client_secret: CANARY.clientSecret, refresh_token: CANARY.refreshToken } : {}), ...userConfig },
      pathSeparator: "/",
    });
  const startOnce = (config: { command: string; args?: string[]; env?: Record<string, string> }) =>
    spawnSync(config.command, config.args ?? [], { env: { ...cleanEnv, ...config.env }, input: "", encoding: "utf8", timeout: 20_000 });

  it("the Demo mode switch serves the demo CRM with no secret filled in", async () => {
    const config = await desktopConfig({ demo: true }, false);
    expect(config).toBeDefined(); // no required field is missing: Claude Desktop starts it
    const { command, args = [], env = {} } = config!;
    expect(env.ZOHO_DEMO).toBe("true");
    expect(args).not.toContain("--demo"); // the switch alone does it
    const { tools, notes, stderr } = await exercise(new StdioClientTransport({ command, args, env, stderr: "pipe" }));
    expect(tools).toEqual(TOOLS.map((t) => t.name));
    expect(notes.structuredContent).toMatchObject({ count: DEMO.leadNoteIds.length, related_list_api_name: "Notes" });
    expect(stderr).toContain("demo mode");
  }, 30_000);

  it("with Demo mode off, a missing secret stops the server at start, named", async () => {
    const none = startOnce((await desktopConfig({}, false))!);
    expect(none.status).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN are missing");
    expect(none.stderr).toContain("Demo mode");

    const noSecret = startOnce((await desktopConfig({ demo: false, client_id: CANARY.clientId, refresh_token: CANARY.refreshToken }, false))!);
    expect(noSecret.status).toBe(2);
    expect(noSecret.stderr).toMatch(/configuration error: ZOHO_CLIENT_SECRET is missing/);
    expect(noSecret.stderr).not.toContain(CANARY.refreshToken);
  }, 30_000);

  it("starts as Claude Desktop starts it and serves every tool (demo data)", async () => {
    const config = await desktopConfig({});
    expect(config).toBeDefined();
    const { command, args = [], env = {} } = config!;
    expect(JSON.stringify({ args, env })).not.toContain("${");
    expect(env).toMatchObject({ ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_DC: "us", ZOHO_ENVIRONMENT: "production", ZOHO_MAX_RECORDS: "2000" });

    const { tools, notes, stderr } = await exercise(
      new StdioClientTransport({ command, args: [...args, "--demo"], env, stderr: "pipe" }),
    );
    expect(tools).toEqual(TOOLS.map((t) => t.name));
    expect(notes.isError).toBeFalsy();
    expect(notes.structuredContent).toMatchObject({ count: DEMO.leadNoteIds.length, related_list_api_name: "Notes" });
    for (const secret of [CANARY.clientSecret, CANARY.refreshToken]) expect(stderr).not.toContain(secret);
  }, 30_000);

  it("refuses a data center outside the list with a message naming ZOHO_DC", async () => {
    // MCPB 0.3 has no choice type: the data center is free text, so the server is what checks it.
    const { command, args = [], env = {} } = (await desktopConfig({ data_center: "mars" }))!;
    const child = spawnSync(command, args, { env: { ...cleanEnv, ...env }, input: "", encoding: "utf8", timeout: 20_000 });
    expect(child.status).toBe(2);
    expect(child.stderr).toContain("ZOHO_DC must be one of us, eu, in, au, jp, cn, ca, sa, uk, ae");
    expect(child.stdout).toBe("");
  }, 30_000);
});

describe("the bin file alone", () => {
  it("copied without anything beside it, serves stdio with --demo: one file", async () => {
    const alone = join(tmp, "bin-alone");
    mkdirSync(alone);
    const file = join(alone, "zoho-crm-related-mcp.js");
    cpSync(join(root, pkg.bin["zoho-crm-related-mcp"]), file);
    expect(readdirSync(alone)).toEqual(["zoho-crm-related-mcp.js"]);
    const { tools, notes, stderr } = await exercise(new StdioClientTransport({ command: process.execPath, args: [file, "--demo"], cwd: alone, stderr: "pipe" }));
    expect(tools).toEqual(TOOLS.map((t) => t.name));
    expect(notes.isError).toBeFalsy();
    expect(notes.structuredContent).toMatchObject({ count: DEMO.leadNoteIds.length, related_list_api_name: "Notes" });
    expect(stderr).toContain("demo mode");

    // setup, doctor and --http live in full/ beside it: without that folder, it says what to copy.
    for (const args of [["setup"], ["doctor", "--demo"], ["--http"]]) {
      const run = spawnSync(process.execPath, [file, ...args], { cwd: alone, env: cleanEnv, input: "", encoding: "utf8", timeout: 20_000 });
      expect(run.status, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("needs the full/ folder beside this file: copy the whole dist/bundle/ folder (this file alone serves stdio and --demo)");
    }
  }, 30_000);

  it("holds neither express nor the setup prompts, which full/ has: stdio never parses them", () => {
    const bin = readFileSync(join(root, pkg.bin["zoho-crm-related-mcp"]), "utf8");
    const fullDir = join(dirname(join(root, pkg.bin["zoho-crm-related-mcp"])), "full");
    const full = readdirSync(fullDir, { recursive: true }).map(String).filter((f) => f.endsWith(".js")).map((f) => readFileSync(join(fullDir, f), "utf8")).join("\n");
    // express's own setting, and the key help of @inquirer's select prompt.
    for (const marker of ['"x-powered-by"', '"navigate"']) {
      expect(full, marker).toContain(marker);
      expect(bin, marker).not.toContain(marker);
    }
    expect(bin).toContain("is not in the stdio bin: src/index.ts hands this command to full/");
  });
});

describe("a cold start (spawn to an answered tools/list)", () => {
  it("loads neither node:http nor node:crypto (the demo CRM's) nor Ajv nor zod 3: initialize and tools/list never need them", async () => {
    // Printed as the server exits: the built-ins this process loaded, as Node lists them.
    const preload = join(tmp, "loaded-builtins.mjs");
    writeFileSync(preload, 'process.on("exit", () => process.stderr.write(`builtins: ${JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")))}\\n`));\n');
    const bin = join(root, pkg.bin["zoho-crm-related-mcp"]);
    const env = { ...cleanEnv, ZOHO_CLIENT_ID: "id", ZOHO_CLIENT_SECRET: "secret", ZOHO_REFRESH_TOKEN: "refresh", ZOHO_API_DOMAIN: "http://127.0.0.1:9", ZOHO_ACCOUNTS_URL: "http://127.0.0.1:9" };
    const transport = new StdioClientTransport({ command: process.execPath, args: ["--import", pathToFileURL(preload).href, bin], env, stderr: "pipe" });
    let stderr = "";
    transport.stderr?.on("data", (chunk) => (stderr += String(chunk)));
    const client = new Client({ name: "cold-start-test", version: "1.0.0" });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    await client.close();
    await vi.waitFor(() => expect(stderr).toContain("builtins: "), { timeout: 10_000 });
    const loaded: string[] = JSON.parse(/builtins: (.*)/.exec(stderr)![1]!);
    expect(loaded).toContain("NativeModule net"); // the list is real: stdio's pipes need net
    expect(loaded).not.toContain("NativeModule http");
    expect(loaded).not.toContain("NativeModule crypto");
    // Ajv is left out of the bin, not only unused (its runtime modules are required by name).
    const source = readFileSync(bin, "utf8");
    expect(source).not.toContain("ajv/dist/runtime");
    // zod 3 and zod-to-json-schema, kept by the SDK for zod 3 schemas, likewise ("ZodEffects" is a zod 3 type name).
    expect(source).not.toContain('"ZodEffects"');
  }, 30_000);
});

describe("the npm tarball", () => {
  it("ships only the bundle, the manifest and the README, and runs with npx in an empty folder", async () => {
    // npm test has just built: skip the prepack build here.
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: root, env: cleanEnv });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const files = packed!.files.map((f) => f.path).sort();
    expect(files).toContain(pkg.bin["zoho-crm-related-mcp"]);
    for (const file of files) expect(file).toMatch(/^(manifest\.json|package\.json|README\.md|dist\/bundle\/.+\.js)$/);

    const app = join(tmp, "empty-folder");
    mkdirSync(app);
    // Its own package.json makes it the project npm installs into, whatever a parent folder holds
    // (npm walks up to the nearest package.json otherwise: a stray /tmp/package.json broke this once).
    writeFileSync(join(app, "package.json"), '{ "name": "empty-folder", "private": true }\n');
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(tmp, packed!.filename)], { cwd: app, env: cleanEnv });
    // Everything is bundled: the install brings no other package.
    expect(readdirSync(join(app, "node_modules")).filter((d) => !d.startsWith("."))).toEqual(["zoho-crm-related-mcp"]);

    const { tools, notes, stderr } = await exercise(
      new StdioClientTransport({ command: join(app, "node_modules", ".bin", "zoho-crm-related-mcp"), args: ["--demo"], cwd: app, stderr: "pipe" }),
    );
    expect(tools).toEqual(TOOLS.map((t) => t.name));
    expect(notes.isError).toBeFalsy();
    expect(stderr).toContain("demo mode");
  }, 60_000);

  it("runs straight from the tarball as the README shows: npx -y --package=./<tarball> zoho-crm-related-mcp", async () => {
    const folder = join(tmp, "npx-from-tarball");
    mkdirSync(folder);
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", folder], { cwd: root, env: cleanEnv });
    const { filename } = (JSON.parse(stdout) as { filename: string }[])[0]!;
    expect(filename).toBe(`${pkg.name}-${pkg.version}.tgz`); // the name the README uses
    // A cache of its own: nothing from an earlier run (or the registry) can stand in for the tarball.
    const env = { ...cleanEnv, npm_config_cache: join(tmp, "npx-cache"), npm_config_offline: "true" };
    const npx = ["-y", `--package=./${filename}`, "zoho-crm-related-mcp"];
    const version = await run("npx", [...npx, "--version"], { cwd: folder, env });
    expect(version.stdout).toBe(`${pkg.version}\n`);

    const { tools, notes } = await exercise(new StdioClientTransport({ command: "npx", args: [...npx, "--demo"], cwd: folder, env, stderr: "pipe" }));
    expect(tools).toEqual(TOOLS.map((t) => t.name));
    expect(notes.isError).toBeFalsy();
  }, 90_000);
});
