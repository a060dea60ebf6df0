// The secret canary, end to end: the built server runs as its own process (as Claude Desktop runs
// it) with the CANARY secrets, against the demo CRM, while every fault is injected. Everything that
// leaves the process — stdout, stderr, tool results, log notifications, error texts — is collected
// and must hold neither a canary secret nor any access token the CRM ever issued.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemoCrm, type DemoCrm } from "../../src/demo/crm.js";
import { DEMO } from "../../src/demo/seed.js";
import { CANARY, expectNoSecrets } from "../helpers.js";

const BIN = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const secretsEnv = { ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken };

let crm: DemoCrm;
let client: Client;
let transport: StdioClientTransport;
const out: string[] = []; // everything the process said: stdout messages, stderr, results, errors

beforeAll(async () => {
  expect(existsSync(BIN), "dist/index.js: run npm run build (npm test does)").toBe(true);
  // Two refreshes allowed: the third expiry below meets Zoho's refresh limit.
  crm = await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken, refreshLimit: { max: 2, windowMs: 600_000 } });
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN],
    env: { PATH: process.env.PATH ?? "", ...secretsEnv, ZOHO_ACCOUNTS_URL: crm.url, ZOHO_TIMEOUT_MS: "300" },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => out.push(`stderr: ${chunk.toString("utf8")}`));
  client = new Client({ name: "canary", version: "1.0.0" });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void out.push(`log: ${JSON.stringify(n.params)}`));
  await client.connect(transport);
  // Every line on stdout reaches the client as a message, or as an error if it is not JSON-RPC.
  const deliver = transport.onmessage;
  transport.onmessage = (message) => {
    out.push(`stdout: ${JSON.stringify(message)}`);
    deliver?.(message);
  };
  transport.onerror = (error) => out.push(`stdout error: ${error.message}`);
});

afterAll(async () => {
  await client?.close();
  await crm?.close();
});

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  out.push(`result: ${JSON.stringify(result)}`);
  return result;
}

const NOTES = { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" };

describe("secret canary (spawned server, every fault)", () => {
  it("no canary secret and no issued access token in anything the server sends", async () => {
    expect((await call("get_related_records", NOTES)).isError).toBeFalsy();
    const faults: Array<Partial<DemoCrm["faults"]>> = [
      { status429: 5, retryAfterSeconds: 0 },
      { status5xx: 5 },
      { reset: 5 },
      { hang: 2 },
      { malformed: 1 },
    ];
    const errors: string[] = [];
    for (const fault of faults) {
      Object.assign(crm.faults, fault);
      const result = await call("get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId });
      errors.push(result.content.map((c) => (c.type === "text" ? c.text : "")).join(""));
      Object.assign(crm.faults, { status429: 0, status5xx: 0, reset: 0, hang: 0, malformed: 0, retryAfterSeconds: undefined });
    }
    expect(errors.map((e) => /^Zoho error (\w+)/.exec(e)?.[1])).toEqual(["TOO_MANY_REQUESTS", "INTERNAL_ERROR", "NETWORK_ERROR", "TIMEOUT", "INVALID_RESPONSE"]);

    // Expired tokens: one refresh (the second token of the limit), then the limit is reached.
    crm.expireAllTokens();
    expect((await call("get_closed_activities", { module_api_name: "Leads", record_id: DEMO.leadId })).isError).toBeFalsy();
    crm.expireAllTokens();
    const limited = await call("get_related_records", NOTES);
    expect(JSON.stringify(limited.content)).toContain("REFRESH_RATE_LIMITED");

    // Bad input, Zoho errors, the record resource.
    await call("get_related_records", { ...NOTES, record_id: "../../oauth/v2/token" });
    await call("list_related_lists", { module_api_name: "Nope" });
    await client.readResource({ uri: `zohocrm://records/Leads/${DEMO.leadId}` }).then(
      (r) => void out.push(`resource: ${JSON.stringify(r)}`),
      (e: Error) => void out.push(`resource error: ${e.message}`),
    );

    await new Promise((r) => setTimeout(r, 200)); // let the last stderr lines arrive
    const everything = out.join("\n");
    expect(crm.issuedAccessTokens()).toHaveLength(2);
    expect(everything).toContain("stderr: "); // the collection works: the server did log
    expect(everything).not.toContain("stdout error");
    expectNoSecrets(everything, crm.issuedAccessTokens());
    console.info(`canary: ${out.length} outputs collected (${everything.length} characters), ${crm.issuedAccessTokens().length} access tokens issued, 0 secrets leaked`);
  }, 30_000);

  it("the canary bites: a leaked secret or token fails the assertion", () => {
    expect(() => expectNoSecrets(`Authorization: ${CANARY.refreshToken}`)).toThrow(/secrets found/);
    expect(() => expectNoSecrets(`client_secret=${CANARY.clientSecret}`)).toThrow(/secrets found/);
    expect(() => expectNoSecrets("Zoho-oauthtoken 1000.abc", ["1000.abc"])).toThrow(/secrets found/);
    expect(() => expectNoSecrets(`client_id=${CANARY.clientId}`)).not.toThrow();
  });

  it("configuration errors name the variable, never its value", () => {
    for (const env of [
      { ...secretsEnv, ZOHO_DC: "mars" },
      { ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken },
      { ...secretsEnv, ZOHO_ACCOUNTS_URL: `ftp://${CANARY.clientSecret}@example.com` },
      { ZOHO_ACCESS_TOKEN: CANARY.refreshToken, ZOHO_TIMEOUT_MS: "-1" },
    ]) {
      const run = spawnSync(process.execPath, [BIN], { env: { PATH: process.env.PATH ?? "", ...env }, input: "", encoding: "utf8", timeout: 10_000 });
      expect(run.status).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/configuration error: ZOHO_\w+/);
      expectNoSecrets(run.stdout + run.stderr);
    }
    // Four processes started one after another: seconds on a machine busy with the rest of the suite.
  }, 30_000);
});
