// The built bin, spawned the way Claude Desktop spawns it: `node dist/index.js` over stdio.
// `npm test` builds dist/ before vitest runs.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, ResourceLink } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoCrm, type DemoCrm } from "../src/demo/crm.js";
import { DEMO } from "../src/demo/seed.js";
import { CANARY } from "./helpers.js";

const BIN = fileURLToPath(new URL("../dist/index.js", import.meta.url));
/** The demo CRM's access tokens look like this; none may ever reach stderr. */
const ACCESS_TOKEN = /1000\.[0-9a-f]{32}\.[0-9a-f]{32}/;
const TIMEOUT = 30_000;

/** Only what the bin needs: nothing of this process's ZOHO_* settings leaks into the child. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...extra };
}

interface Spawned {
  client: Client;
  stderr: () => string;
  close: () => Promise<void>;
}

async function connect(args: string[], env: Record<string, string>): Promise<Spawned> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, ...args], env: childEnv(env), stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const client = new Client({ name: "e2e-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

/** Runs the bin to completion (for the cases where it must refuse to start). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const text = (r: CallToolResult) => r.content.filter((c) => c.type === "text").map((c) => (c as { text: string }).text).join("\n");
const links = (r: CallToolResult) => r.content.filter((c): c is ResourceLink => c.type === "resource_link");

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build (npm test does it)`);
});

describe("--demo over stdio", () => {
  it("finds a person by name, reads the found record through get_record and resources/read, and the overview from its web address", { timeout: TIMEOUT }, async () => {
    const s = await connect(["--demo"], {});
    try {
      const call = async (name: string, args: Record<string, unknown>) => (await s.client.callTool({ name, arguments: args })) as CallToolResult;
      const found = await call("search_records", { word: "Brian Dylan" });
      expect(found.isError, text(found)).toBeFalsy();
      const records = (found.structuredContent as { records: Array<{ id: string; $module: string; $web_url: string }> }).records;
      expect(records.map((r) => [r.$module, r.id])).toEqual([["Leads", DEMO.leadId], ["Contacts", DEMO.leadContactId]]);
      expect(links(found).map((l) => l.uri)).toEqual([`zohocrm://records/Leads/${DEMO.leadId}`, `zohocrm://records/Contacts/${DEMO.leadContactId}`]);
      expect(found.isError).toBeFalsy();
      const ids = async (args: Record<string, unknown>) => ((await call("search_records", args)).structuredContent as { records: Array<{ id: string }> }).records.map((r) => r.id);
      expect(await ids({ email: DEMO.leadEmail })).toEqual([DEMO.leadId, DEMO.leadContactId]);
      expect(await ids({ phone: DEMO.leadPhone })).toEqual([DEMO.leadId, DEMO.leadContactId]);
      expect(await ids({ criteria: "(Email:equals:brian.dylan@zylker-logistics.com)", module_api_name: "Contacts" })).toEqual([DEMO.leadContactId]);
      expect(text(await call("search_records", { email: "nobody@nowhere.example" }))).toMatch(/No record matches/);
      expect((await call("search_records", { word: "Brian", phone: "123" })).isError).toBe(true);

      const uri = links(found)[0]!.uri;
      expect(text(await call("get_record", { uri }))).toContain(`Brian Dylan: Leads ${DEMO.leadId}`);
      const read = await s.client.readResource({ uri });
      expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ id: DEMO.leadId, Full_Name: "Brian Dylan" });
      const overview = await call("get_related_overview", { record_id: records[0]!.$web_url });
      expect(overview.structuredContent).toMatchObject({ module_api_name: "Leads", record_id: DEMO.leadId });
    } finally {
      await s.close();
    }
  });

  it("lists the tools, calls one, reads one of its resource links", { timeout: TIMEOUT }, async () => {
    const s = await connect(["--demo"], {});
    try {
      const { tools } = await s.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["get_closed_activities", "get_open_activities", "get_related_records", "list_related_lists"]));

      const result = (await s.client.callTool({ name: "get_related_records", arguments: { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" } })) as CallToolResult;
      expect(result.isError, text(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ count: 7, more_records: false });
      expect(text(result)).toContain(`Notes of Leads ${DEMO.leadId}: 7 records`);
      const link = links(result)[0]!;
      expect(link.uri).toMatch(/^zohocrm:\/\/records\/Notes\/\d+$/);

      const read = await s.client.readResource({ uri: link.uri });
      const record = JSON.parse((read.contents[0] as { text: string }).text) as Record<string, unknown>;
      expect(record.id).toBe(link.uri.split("/").at(-1));
      expect(s.stderr()).toMatch(/demo mode/);
    } finally {
      await s.close();
    }
  });
});

describe("real mode against a demo CRM started by the test", () => {
  let crm: DemoCrm;
  beforeAll(async () => {
    crm = await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken });
  });
  afterAll(() => crm.close());

  const refreshEnv = () => ({
    ZOHO_CLIENT_ID: CANARY.clientId,
    ZOHO_CLIENT_SECRET: CANARY.clientSecret,
    ZOHO_REFRESH_TOKEN: CANARY.refreshToken,
    ZOHO_ACCOUNTS_URL: crm.url,
  });

  function expectNoSecret(stderr: string, extraSecrets: string[] = []): void {
    for (const secret of [CANARY.clientSecret, CANARY.refreshToken, ...extraSecrets]) expect(stderr).not.toContain(secret);
    expect(stderr).not.toMatch(ACCESS_TOKEN);
  }

  it("works through the refresh-token flow, and stderr holds no secret nor any access token", { timeout: TIMEOUT }, async () => {
    crm.resetStats();
    const s = await connect([], refreshEnv());
    try {
      const call = async (name: string, args: Record<string, unknown>) => (await s.client.callTool({ name, arguments: args })) as CallToolResult;
      const ok = await call("get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId });
      expect(ok.isError, text(ok)).toBeFalsy();
      expect(ok.structuredContent).toMatchObject({ count: 4 });
      expect(crm.stats.tokensIssued).toBe(1); // api_domain adopted: the calls reached this CRM

      // Provoke the paths that log: a 401 and its refresh, a Zoho error, a retried 500.
      crm.expireAllTokens();
      expect((await call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" })).isError).toBeFalsy();
      expect(crm.stats.tokensIssued).toBe(2);
      const scope = await call("get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Cases" });
      expect(text(scope)).toContain("OAUTH_SCOPE_MISMATCH");
      crm.faults.status5xx = 1;
      expect((await call("list_related_lists", { module_api_name: "Deals" })).isError).toBeFalsy();
    } finally {
      await s.close();
    }
    const stderr = s.stderr();
    expect(stderr).toMatch(/refreshing the Zoho access token/);
    expect(stderr).toMatch(/retrying/);
    expectNoSecret(stderr);
  });

  it("a static ZOHO_ACCESS_TOKEN: works, and never reaches stderr", { timeout: TIMEOUT }, async () => {
    const token = crm.issueAccessToken();
    const s = await connect([], { ZOHO_ACCESS_TOKEN: token, ZOHO_API_DOMAIN: crm.url });
    try {
      const ok = (await s.client.callTool({ name: "get_closed_activities", arguments: { module_api_name: "Leads", record_id: DEMO.leadId } })) as CallToolResult;
      expect(ok.structuredContent).toMatchObject({ count: 3 });
      crm.expireAllTokens();
      const expired = (await s.client.callTool({ name: "get_closed_activities", arguments: { module_api_name: "Leads", record_id: DEMO.leadId } })) as CallToolResult;
      expect(expired.isError).toBe(true);
      expect(text(expired)).toContain("ACCESS_TOKEN_EXPIRED");
      expect(text(expired)).not.toContain(token);
    } finally {
      await s.close();
    }
    expectNoSecret(s.stderr(), [token]);
  });

  it("a refused refresh token: a clear error result, no secret on stderr", { timeout: TIMEOUT }, async () => {
    const s = await connect([], { ...refreshEnv(), ZOHO_REFRESH_TOKEN: "1000.canary-revoked-refresh-token.77" });
    try {
      const r = (await s.client.callTool({ name: "list_related_lists", arguments: { module_api_name: "Leads" } })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(text(r)).toContain("TOKEN_REFRESH_FAILED");
      expect(text(r)).toContain("invalid_code");
      expect(text(r)).not.toContain("canary-revoked-refresh-token");
    } finally {
      await s.close();
    }
    expectNoSecret(s.stderr(), ["1000.canary-revoked-refresh-token.77"]);
  });
});

describe.concurrent("refusing to start", () => {
  it("ZOHO_DC=mars: exit 2, one line on stderr naming ZOHO_DC, nothing on stdout", { timeout: TIMEOUT }, async () => {
    const { code, stdout, stderr } = await run([], { ZOHO_DC: "mars", ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ZOHO_DC/);
    expect(lines[0]).toMatch(/us, eu, in, au, jp, cn, ca, sa, uk, ae/);
    expect(stderr).not.toContain(CANARY.clientSecret);
  });

  it("missing credentials: exit 2, naming the variables", { timeout: TIMEOUT }, async () => {
    const { code, stdout, stderr } = await run([], {});
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/ZOHO_REFRESH_TOKEN/);
  });

  it("half the refresh-token settings: exit 2, naming the missing ones, echoing no value", { timeout: TIMEOUT }, async () => {
    const { code, stderr } = await run([], { ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret });
    expect(code).toBe(2);
    expect(stderr).toMatch(/ZOHO_REFRESH_TOKEN is missing/);
    expect(stderr).not.toContain(CANARY.clientSecret);
  });
});

describe("stdout", () => {
  it("carries nothing but JSON-RPC, and the server exits when stdin closes", { timeout: TIMEOUT }, async () => {
    const child = spawn(process.execPath, [BIN, "--demo"], { env: childEnv({}), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const answered = new Promise<void>((resolve) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString("utf8");
        // Calls run concurrently: wait for both answers, in whichever order.
        if (stdout.includes('"id":3') && stdout.includes('"id":4')) resolve();
      });
    });
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "get_open_activities", arguments: { module_api_name: "Leads", record_id: DEMO.leadId } } });
    send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "get_related_records", arguments: { module_api_name: "Leads", record_id: "12ab", related_list_api_name: "Notes" } } });
    await answered;
    child.stdin.end();
    expect(await exited).toBe(0);

    const lines = stdout.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const ids: unknown[] = [];
    for (const line of lines) {
      const message = JSON.parse(line) as { jsonrpc?: string; id?: unknown };
      expect(message.jsonrpc).toBe("2.0");
      if (message.id !== undefined) ids.push(message.id);
    }
    expect(ids.sort()).toEqual([1, 2, 3, 4]);
    expect(stderr).toMatch(/ready/);
  });
});
