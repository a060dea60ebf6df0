// `zoho-crm-related-mcp setup` against the demo CRM over real HTTP: the interactive form driven
// through the prompt library's own input stream, the flag form for scripts, the client files it
// merges into, and the bundle. Needs the build for the last tests (`npm test` runs it first).
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { configPath, launchCommand, serverEntry } from "../../src/cli/clients.js";
import { doctor } from "../../src/cli/doctor.js";
import { SETUP_SCOPES, setup } from "../../src/cli/setup.js";
import { startDemoCrm, type DemoCrm } from "../../src/demo/crm.js";
import { TOOLS } from "../../src/tools/index.js";
import { CANARY, expectNoSecrets } from "../helpers.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const BIN = fileURLToPath(new URL(`../../${pkg.bin["zoho-crm-related-mcp"]}`, import.meta.url));
const LAUNCH = { command: "node", args: ["/opt/zoho-crm-related-mcp/bundle/zoho-crm-related-mcp.js"] };

let crm: DemoCrm;
let tmp: string;
beforeAll(async () => {
  crm = await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken });
  tmp = mkdtempSync(join(tmpdir(), "zoho-setup-"));
});
afterAll(async () => {
  await crm.close();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => crm.resetStats());

const demoFlags = () => ["--accounts-url", crm.url, "--api-domain", crm.url];
const strip = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/** Runs setup with captured output; `answers` drives the prompts: wait for a prompt, then type. */
async function runSetup(argv: string[], env: Record<string, string> = {}, answers: Array<[RegExp, string]> = []) {
  const input = new PassThrough();
  const output = new PassThrough();
  const errorOutput = new PassThrough();
  let out = "";
  let err = "";
  output.on("data", (c) => (out += String(c)));
  errorOutput.on("data", (c) => (err += String(c)));
  const done = setup(argv, { input, output, errorOutput, env: { PATH: "", ...env }, home: tmp, platform: "linux", launch: LAUNCH });
  let from = 0;
  for (const [prompt, keys] of answers) {
    for (let i = 0; ; i++) {
      const match = prompt.exec(strip(out).slice(from));
      if (match) {
        from += match.index + match[0].length;
        break;
      }
      if (i > 500) throw new Error(`no prompt ${prompt} in:\n${strip(out)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    input.write(keys);
  }
  const code = await done;
  return { code, out: strip(out), err };
}

const DOWN = "\x1b[B";

describe("setup, interactive", () => {
  it("data center, Client ID, secret and code typed in; the token checked; the entry written into VS Code's file", async () => {
    const file = join(tmp, "vscode-mcp.json");
    const { code, out } = await runSetup([...demoFlags(), "--config-file", file], {}, [
      [/\? Where does your Zoho account live/, `${DOWN}\r`], // EU
      [/\? Client ID:/, `${CANARY.clientId}\r`],
      [/\? Client secret \(typing is not shown\):/, `${CANARY.clientSecret}\r`],
      [/\? Add the server to:/, `${DOWN}${DOWN}${DOWN}\r`], // VS Code
      [/\? Code:/, `${crm.issueGrantCode()}\r`],
    ]);
    expect(code).toBe(0);
    // What the user is told: the console of the data center chosen, and the exact scope string.
    expect(out).toContain("Open https://api-console.zoho.eu and choose Add Client → Self Client → Create (once).");
    expect(out).toContain(`\n  ${SETUP_SCOPES}\n`);
    expect(SETUP_SCOPES).toBe("ZohoCRM.modules.READ,ZohoCRM.modules.emails.READ,ZohoCRM.settings.related_lists.READ,ZohoCRM.settings.fields.READ,ZohoCRM.settings.modules.READ,ZohoCRM.org.READ,ZohoSearch.securesearch.READ,ZohoCRM.users.READ");
    expect(out).toContain("✓ signed in to organization Zylker Demo (demo-zylker) as Patricia Boyle <patricia.boyle@zylker-demo.com>");
    expect(out).toContain(`✓ Added "zoho-crm" to ${file} (servers)`);
    // Typed secrets are never shown, nor is the refresh token.
    expectNoSecrets(out, crm.issuedAccessTokens());
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      servers: {
        "zoho-crm": {
          type: "stdio",
          ...LAUNCH,
          env: { ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken, ZOHO_DC: "eu", ZOHO_ACCOUNTS_URL: crm.url, ZOHO_API_DOMAIN: crm.url },
        },
      },
    });
    // The code was exchanged once, and the org and user read with the new token.
    expect(crm.stats.requests.map((r) => `${r.path}${r.query.type ? `?type=${r.query.type}` : ""}`)).toEqual(["/crm/v7/org", "/crm/v7/users?type=CurrentUser"]);
  });

  it("an expired code is explained and another one asked for", async () => {
    const expired = crm.issueGrantCode(-1);
    const { code, out } = await runSetup([...demoFlags(), "--dc", "us", "--client", "print"], { ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret }, [
      [/\? Code:/, `${expired}\r`],
      [/✗ [^\n]*invalid_code[\s\S]*\? Code:/, `${crm.issueGrantCode()}\r`],
    ]);
    expect(code).toBe(0);
    expect(out).toContain("refused the code (invalid_code): the code is wrong, expired (it lives 3 to 10 minutes) or was used already: generate a new one in the API console and paste it at once");
    expect(out).toContain("✓ Zoho issued a refresh token");
  });
});

describe("setup with flags (scripts)", () => {
  it("merges into the client's file, keeps a backup, and doctor passes on what it wrote", async () => {
    const file = join(tmp, "cursor.json");
    const before = { mcpServers: { other: { command: "other-server" } }, theme: "dark" };
    writeFileSync(file, JSON.stringify(before));
    const { code, out } = await runSetup([...demoFlags(), "--dc", "eu", "--client-id", CANARY.clientId, "--code", crm.issueGrantCode(), "--client", "cursor", "--config-file", file], { ZOHO_CLIENT_SECRET: CANARY.clientSecret });
    expect(code).toBe(0);
    expectNoSecrets(out, crm.issuedAccessTokens());
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(after.theme).toBe("dark");
    expect(after.mcpServers.other).toEqual({ command: "other-server" });
    expect(after.mcpServers["zoho-crm"]).toEqual({ ...LAUNCH, env: expect.objectContaining({ ZOHO_REFRESH_TOKEN: CANARY.refreshToken, ZOHO_DC: "eu" }) });
    const backups = readdirSync(tmp).filter((f) => f.startsWith("cursor.json.backup-"));
    expect(backups).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(tmp, backups[0]!), "utf8"))).toEqual(before);
    expect(out).toContain(`; the previous file is ${join(tmp, backups[0]!)}`);

    // doctor reads the entry setup wrote, as the client will start the server, and passes it.
    let report = "";
    expect(await doctor(["--client", "cursor", "--config-file", file], {}, (t) => void (report += t))).toBe(0);
    expect(report).toMatch(new RegExp(`^Checking the "zoho-crm" entry of ${file}\n✓ settings: self-client ${CANARY.clientId.replace(".", "\\.")}, EU data center, production\n`));
    expectNoSecrets(report, crm.issuedAccessTokens());

    let missing = "";
    expect(await doctor(["--client", "cursor", "--config-file", file, "--name", "nope"], {}, (t) => void (missing += t))).toBe(1);
    expect(missing).toBe(`✗ settings: ${file} has no server named nope\n    fix: run \`zoho-crm-related-mcp setup\`, or name the entry with --name\n`);
  });

  it("does not replace an existing entry without --yes; does with it", async () => {
    const file = join(tmp, "desktop.json");
    writeFileSync(file, JSON.stringify({ mcpServers: { "zoho-crm": { command: "old" } } }));
    const args = [...demoFlags(), "--client-id", CANARY.clientId, "--client", "claude-desktop", "--config-file", file];
    const refused = await runSetup([...args, "--code", crm.issueGrantCode()], { ZOHO_CLIENT_SECRET: CANARY.clientSecret });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("already has a server named zoho-crm: pass --yes to replace it, or --name for another name; nothing was written, and no grant code was used");
    expect(JSON.parse(readFileSync(file, "utf8")).mcpServers["zoho-crm"]).toEqual({ command: "old" });
    // Refused before the exchange: the code is still good.
    expect(crm.stats.tokenRequests).toBe(0);

    const replaced = await runSetup([...args, "--yes", "--code", crm.issueGrantCode()], { ZOHO_CLIENT_SECRET: CANARY.clientSecret });
    expect(replaced.code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).mcpServers["zoho-crm"].command).toBe("node");
  });

  it("a file that is not plain JSON (comments) is left alone, with the way out", async () => {
    const file = join(tmp, "commented.json");
    const text = '{\n  // my servers\n  "servers": {}\n}\n';
    writeFileSync(file, text);
    const { code, out } = await runSetup([...demoFlags(), "--client-id", CANARY.clientId, "--client", "vscode", "--config-file", file, "--code", crm.issueGrantCode()], { ZOHO_CLIENT_SECRET: CANARY.clientSecret });
    expect(code).toBe(1);
    expect(out).toContain(`${file} is not plain JSON (comments or a typo?); not touching it. Run setup again with --client print`);
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(crm.stats.tokenRequests).toBe(0); // found before the code was spent
  });

  it("refusals before anything is sent: a secret as a flag, a missing secret, an unknown data center", async () => {
    const flagged = await runSetup(["--client-secret", "x", "--code", "c"]);
    expect([flagged.code, flagged.err.trim()]).toEqual([2, "setup: secrets are never taken as flags (other users can read a command line): set ZOHO_CLIENT_SECRET, or let setup ask"]);
    const noSecret = await runSetup([...demoFlags(), "--client-id", "id", "--code", "c"]);
    expect([noSecret.code, noSecret.err.trim()]).toEqual([2, "setup: ZOHO_CLIENT_SECRET is missing (the secret is never a flag)"]);
    const dc = await runSetup(["--dc", "mars", "--code", "c"]);
    expect([dc.code, dc.err.trim()]).toEqual([2, "setup: --dc must be one of us, eu, in, au, jp, cn, ca, sa, uk, ae"]);
    expect(crm.stats.tokenRequests).toBe(0);
  });

  it("a wrong client secret: Zoho's invalid_client with the fix, nothing written", async () => {
    const file = join(tmp, "never.json");
    const { code, out } = await runSetup([...demoFlags(), "--client-id", CANARY.clientId, "--client", "cursor", "--config-file", file, "--code", crm.issueGrantCode()], { ZOHO_CLIENT_SECRET: "a-wrong-secret-123" });
    expect(code).toBe(1);
    expect(out).toContain("refused the code (invalid_client): Zoho does not know this Client ID and secret at this accounts server");
    expect(out).toContain("setup: no refresh token; nothing was written");
    expect(existsSync(file)).toBe(false);
  });
});

describe("setup --demo: the whole walk against the demo accounts server, no Zoho account", () => {
  it("each step for real (code exchanged, token checked), and an entry that serves the demo CRM with no secret", async () => {
    const file = join(tmp, "claude-code-demo.json");
    const { code, out } = await runSetup(["--demo", "--config-file", file], {}, [
      [/\? Where does your Zoho account live/, "\r"],
      [/\? Add the server to:/, `${DOWN}\r`], // Claude Code
      [/Demo: Generate Code made 1000\.[0-9a-f.]+; Enter takes it\.\n[\s\S]*\? Code:/, "\r"],
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/Demo: the demo CRM's accounts server at http:\/\/127\.0\.0\.1:\d+ stands in for Zoho's/);
    expect(out).toContain("Demo: the demo accounts server's self-client is Client ID demo-client-id");
    expect(out).toMatch(/✓ Zoho issued a refresh token at http:\/\/127\.0\.0\.1:\d+\n/);
    expect(out).toContain("✓ signed in to organization Zylker Demo (demo-zylker) as Patricia Boyle <patricia.boyle@zylker-demo.com>");
    // The demo's refresh token dies with the run: the entry serves --demo, and holds no secret.
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ mcpServers: { "zoho-crm": { type: "stdio", command: LAUNCH.command, args: [...LAUNCH.args, "--demo"], env: {} } } });
    // The test's own CRM saw nothing: setup --demo starts its own.
    expect(crm.stats.tokenRequests + crm.stats.crmRequests).toBe(0);

    // doctor --client checks that entry as the demo it serves.
    let report = "";
    expect(await doctor(["--client", "claude-code", "--config-file", file], {}, (t) => void (report += t))).toBe(0);
    expect(report).toContain("✓ related records:");
  });

  it("from the bundle: the entry it writes starts and serves the demo CRM's tools", async () => {
    const file = join(tmp, "cursor-demo.json");
    const child = spawn(process.execPath, [BIN, "setup", "--demo", "--client", "cursor", "--config-file", file], { env: { PATH: process.env.PATH ?? "" }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += String(c)));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    // Enter at each prompt: the first data center, then the demo's grant code.
    for (const prompt of [/\? Where does your Zoho account live/, /\? Code:/]) {
      for (let i = 0; !prompt.test(strip(out)); i++) {
        if (i > 1000) throw new Error(`no prompt ${prompt} in:\n${strip(out)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      child.stdin.write("\r");
    }
    expect(await exited, strip(out)).toBe(0);
    const entry = JSON.parse(readFileSync(file, "utf8")).mcpServers["zoho-crm"] as { command: string; args: string[]; env: Record<string, string> };
    expect(entry).toEqual({ command: process.execPath, args: [BIN, "--demo"], env: {} });
    const client = new Client({ name: "setup-demo-test", version: "1.0.0" });
    await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, env: { PATH: process.env.PATH ?? "", ...entry.env }, stderr: "pipe" }));
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    } finally {
      await client.close();
    }
  }, 30_000);

  it("asks about replacing an existing entry before the code is exchanged: a no costs no grant code", async () => {
    const file = join(tmp, "claude-code-taken.json");
    writeFileSync(file, JSON.stringify({ mcpServers: { "zoho-crm": { command: "old" } } }));
    const { code, out } = await runSetup(["--demo", "--client", "claude-code", "--config-file", file], {}, [
      [/\? Where does your Zoho account live/, "\r"],
      [/already has a server named[\s\S]*Replace it\? \(y\/N\)/, "\r"], // the default: No
    ]);
    expect(code).toBe(1);
    expect(out).toContain(`setup: ${file} already has a server named zoho-crm: pass --yes to replace it, or --name for another name; nothing was written, and no grant code was used`);
    // Asked before the code step: no code made, none exchanged.
    expect(out).not.toContain("Code:");
    expect(out).not.toContain("refresh token");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ mcpServers: { "zoho-crm": { command: "old" } } });
  }, 15_000);

  it("ends at once when the input ends (`</dev/null`, `echo |`): cancelled, the demo CRM closed, exit 130", async () => {
    const ended = async (stdin: "null" | "newline") => {
      const child = spawn(process.execPath, [BIN, "setup", "--demo"], { env: { PATH: process.env.PATH ?? "" }, stdio: [stdin === "null" ? "ignore" : "pipe", "pipe", "pipe"] });
      let out = "";
      child.stdout!.on("data", (c) => (out += String(c)));
      if (stdin === "newline") child.stdin!.end("\n");
      // Today's failure mode is a hang: stop waiting after 15 s and say so.
      const timer = setTimeout(() => child.kill(), 15_000);
      const exit = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      clearTimeout(timer);
      return { exit, out: strip(out) };
    };
    for (const stdin of ["null", "newline"] as const) {
      const { exit, out } = await ended(stdin);
      expect(exit, `${stdin}: ${out}`).toBe(130);
      expect(out).toContain("setup: the input ended before every question was answered (setup asks in a terminal); cancelled, nothing was written");
    }
  }, 40_000);

  it("refuses --demo with a code or another accounts server: the demo brings its own", async () => {
    const withCode = await runSetup(["--demo", "--code", "1000.x"]);
    expect([withCode.code, withCode.err.trim()]).toEqual([2, "setup: --demo brings its own accounts server and grant code: drop --accounts-url, --api-domain and --code"]);
    const withUrl = await runSetup(["--demo", "--accounts-url", crm.url]);
    expect(withUrl.code).toBe(2);
  });
});

describe("client files and launch commands", () => {
  it("each client's configuration file, per operating system", () => {
    const paths = (platform: NodeJS.Platform, home: string, env: NodeJS.ProcessEnv) =>
      (["claude-desktop", "claude-code", "cursor", "vscode"] as const).map((c) => configPath(c, platform, env, home));
    expect(paths("darwin", "/Users/ana", {})).toEqual([
      "/Users/ana/Library/Application Support/Claude/claude_desktop_config.json",
      "/Users/ana/.claude.json",
      "/Users/ana/.cursor/mcp.json",
      "/Users/ana/Library/Application Support/Code/User/mcp.json",
    ]);
    expect(paths("win32", "C:\\Users\\ana", { APPDATA: "C:\\Users\\ana\\AppData\\Roaming" })).toEqual([
      "C:\\Users\\ana\\AppData\\Roaming\\Claude\\claude_desktop_config.json",
      "C:\\Users\\ana\\.claude.json",
      "C:\\Users\\ana\\.cursor\\mcp.json",
      "C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\mcp.json",
    ]);
    expect(paths("linux", "/home/ana", {})[0]).toBe("/home/ana/.config/Claude/claude_desktop_config.json");
    expect(paths("linux", "/home/ana", { XDG_CONFIG_HOME: "/cfg" })[3]).toBe("/cfg/Code/User/mcp.json");
  });

  it("the entry starts the server the way setup was started; npx through cmd on Windows", () => {
    expect(launchCommand({ npm_command: "exec", npm_config_package: "./zoho-crm-related-mcp-0.1.0.tgz", INIT_CWD: "/home/ana/dl" }, "/x/_npx/1/node_modules/.bin/zoho-crm-related-mcp", "/usr/bin/node", "/"))
      .toEqual({ command: "npx", args: ["-y", "--package=/home/ana/dl/zoho-crm-related-mcp-0.1.0.tgz", "zoho-crm-related-mcp"] });
    expect(launchCommand({ npm_command: "exec" }, "/home/ana/.npm/_npx/1/node_modules/.bin/zoho-crm-related-mcp", "/usr/bin/node", "/"))
      .toEqual({ command: "npx", args: ["-y", "zoho-crm-related-mcp"] });
    expect(launchCommand({}, "/no/such/checkout/dist/bundle/zoho-crm-related-mcp.js", "/opt/node/bin/node", "/"))
      .toEqual({ command: "/opt/node/bin/node", args: ["/no/such/checkout/dist/bundle/zoho-crm-related-mcp.js"] });
    expect(serverEntry("claude-desktop", { command: "npx", args: ["-y", "zoho-crm-related-mcp"] }, {}, "win32"))
      .toEqual({ command: "cmd", args: ["/c", "npx", "-y", "zoho-crm-related-mcp"], env: {} });
  });
});

describe("setup from the bundle", () => {
  const run = promisify(execFile);

  it("--client print with --code: stdout is the entry alone (JSON), progress on stderr", async () => {
    const { stdout, stderr } = await run(process.execPath, [BIN, "setup", ...demoFlags(), "--client-id", CANARY.clientId, "--code", crm.issueGrantCode(), "--client", "print"], {
      env: { PATH: process.env.PATH ?? "", ZOHO_CLIENT_SECRET: CANARY.clientSecret },
    });
    const entry = JSON.parse(stdout).mcpServers["zoho-crm"];
    expect(entry).toMatchObject({ command: process.execPath, args: [BIN], env: { ZOHO_REFRESH_TOKEN: CANARY.refreshToken, ZOHO_DC: "us" } });
    expect(stderr).toContain("✓ signed in to organization Zylker Demo (demo-zylker) as Patricia Boyle");
    expectNoSecrets(stderr, crm.issuedAccessTokens());
  });

  it("setup --help prints the flags and the scope string on stdout", async () => {
    const { stdout } = await run(process.execPath, [BIN, "setup", "--help"], { env: { PATH: process.env.PATH ?? "" } });
    expect(stdout).toMatch(/^zoho-crm-related-mcp setup \[flags\]\n/);
    expect(stdout).toContain(SETUP_SCOPES);
  });
});
