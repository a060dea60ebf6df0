// Zoho's own answer shapes (test/fixtures/zoho/, each naming its source) replayed over real HTTP
// on 127.0.0.1 through the real server: config, token manager, ky client, tools, MCP SDK client.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { Logger } from "../../src/log.js";
import { buildServer, createDeps } from "../../src/server.js";
import type { ToolDeps } from "../../src/tools/types.js";
import { CANARY } from "../helpers.js";
import { fixture, fixtureNames, startReplay, type Replay } from "./replay.js";

const LEAD = "4876876000000376008";
const NOTES_PATH = `/crm/v7/Leads/${LEAD}/Notes`;
const served = new Set<string>();

let replay: Replay;
beforeAll(async () => {
  replay = await startReplay();
});
afterAll(async () => {
  await replay.close();
});

interface Server {
  deps: ToolDeps;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}
let open: Server | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
  replay.routes.clear();
  replay.token = fixture("token-success");
  replay.requests.length = 0;
});

async function server(env: Record<string, string> = {}): Promise<Server> {
  const config = loadConfig({
    ZOHO_CLIENT_ID: CANARY.clientId,
    ZOHO_CLIENT_SECRET: CANARY.clientSecret,
    ZOHO_REFRESH_TOKEN: CANARY.refreshToken,
    ZOHO_ACCOUNTS_URL: replay.url,
    // Zoho's samples name https://www.zohoapis.com: pinned here, so every request stays on 127.0.0.1.
    ZOHO_API_DOMAIN: replay.url,
    ...env,
  });
  const deps = createDeps(config, new Logger(false));
  const mcp = buildServer(deps);
  const client = new Client({ name: "conformance", version: "1.0.0" });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([mcp.connect(b), client.connect(a)]);
  open = {
    deps,
    call: async (name, args) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await mcp.close();
    },
  };
  return open;
}

function serve(path: string, name: string): void {
  served.add(name);
  replay.routes.set(path, fixture(name));
}
function tokenAnswer(name: string): void {
  served.add(name);
  replay.token = fixture(name);
}
const text = (r: CallToolResult) => r.content.filter((c) => c.type === "text").map((c) => (c as { text: string }).text).join("\n");

describe("every fixture names its source", () => {
  it.each(fixtureNames())("%s", (name) => {
    const f = fixture(name);
    // A Zoho doc page or an SDK model file, never our own invention.
    expect(f.source).toMatch(/^(https:\/\/(www\.)?(zoho\.com|help\.zoho\.com)\/|zoho\/zohocrm-[a-z]+-sdk-[0-9.]+: )/);
    expect(typeof f.status).toBe("number");
  });
});

describe("Zoho's error forms come out as its code, its message and what to do", () => {
  const notes = { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"] };
  const cases: Array<[string, string]> = [
    ["error-400-invalid-data", "Zoho error INVALID_DATA (HTTP 400): the related id given seems to be invalid"],
    ["error-400-invalid-data-in-data", "Zoho error INVALID_DATA (HTTP 400): the related id given seems to be invalid"],
    ["error-401-scope-mismatch", "Zoho error OAUTH_SCOPE_MISMATCH (HTTP 401): invalid oauth scope to access this URL"],
    ["error-401-scope-mismatch-in-data", "Zoho error OAUTH_SCOPE_MISMATCH (HTTP 401): invalid oauth scope to access this URL"],
    ["error-403-no-permission", "Zoho error NO_PERMISSION (HTTP 403): permission denied to read related records"],
    ["error-403-no-permission-in-data", "Zoho error NO_PERMISSION (HTTP 403): permission denied to read related records"],
    ["error-404-invalid-url-pattern", "Zoho error INVALID_URL_PATTERN (HTTP 404): Please check if the URL trying to access is a correct one"],
    ["error-404-invalid-url-pattern-in-data", "Zoho error INVALID_URL_PATTERN (HTTP 404): Please check if the URL trying to access is a correct one"],
    ["error-200-invalid-data-in-data", "Zoho error INVALID_DATA (HTTP 200): the related list name given seems to be invalid"],
  ];
  it.each(cases)("%s", async (name, first) => {
    const s = await server();
    serve(NOTES_PATH, name);
    const r = await s.call("get_related_records", notes);
    expect(r.isError).toBe(true);
    const lines = text(r).split("\n");
    expect(lines[0]).toBe(first);
    const what = lines.find((l) => l.startsWith("What to do: "));
    expect(what, text(r)).toBeDefined();
    const code = first.split(" ")[2]!;
    const expected: Record<string, string> = {
      INVALID_DATA: "What to do: Zoho rejected a value",
      OAUTH_SCOPE_MISMATCH: "What to do: The OAuth client lacks the scope to read this: grant ZohoCRM.modules.READ, or ZohoCRM.modules.leads.READ and ZohoCRM.modules.notes.READ",
      NO_PERMISSION: "What to do: The Zoho user does not have permission",
      INVALID_URL_PATTERN: "What to do: The request URL is wrong.",
    };
    expect(what!.startsWith(expected[code]!), what).toBe(true);
    const details = fixture(name).body as { details?: unknown; data?: Array<{ details: unknown }> };
    const zohoDetails = details.details ?? details.data![0]!.details;
    if (zohoDetails && Object.keys(zohoDetails).length) expect(lines).toContain(`Details: ${JSON.stringify(zohoDetails)}`);
  });
});

describe("token answers", () => {
  it("success: the token lives Zoho's hour (less a minute's margin)", async () => {
    const s = await server();
    tokenAnswer("token-success");
    serve(NOTES_PATH, "related-notes");
    const before = Date.now();
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"] });
    expect(r.isError, text(r)).toBeFalsy();
    const left = s.deps.client.tokens.renewsAt! - before;
    expect(left).toBeGreaterThan(3_540_000 - 5_000);
    expect(left).toBeLessThanOrEqual(3_540_000 + 5_000);
    const sent = replay.requests.find((q) => q.path === NOTES_PATH)!;
    expect(sent.headers.authorization).toBe(`Zoho-oauthtoken ${(fixture("token-success").body as { access_token: string }).access_token}`);
  });

  it("expires_in_sec present: expires_in is milliseconds, so the token lives one hour, not a thousand", async () => {
    const s = await server();
    tokenAnswer("token-expires-in-sec");
    serve(NOTES_PATH, "related-notes");
    const before = Date.now();
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"] });
    expect(r.isError, text(r)).toBeFalsy();
    const left = s.deps.client.tokens.renewsAt! - before;
    expect(left).toBeGreaterThan(3_540_000 - 5_000);
    expect(left).toBeLessThanOrEqual(3_540_000 + 5_000);
  });

  it("{error} with HTTP 200: TOKEN_REFRESH_FAILED naming Zoho's error, no CRM request", async () => {
    const s = await server();
    tokenAnswer("token-error-invalid-code");
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"] });
    expect(text(r).split("\n")[0]).toBe(`Zoho error TOKEN_REFRESH_FAILED: Zoho's accounts server ${replay.url} refused the refresh token (invalid_code)`);
    expect(replay.requests.filter((q) => q.path.startsWith("/crm/"))).toEqual([]);
  });

  it("too many requests (HTTP 200, Access Denied): blocked for ten minutes, and not extended by asking", async () => {
    const s = await server();
    tokenAnswer("token-too-many-requests");
    const args = { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"] };
    const first = text(await s.call("get_related_records", args));
    const seconds = Number(/Retry in (\d+) s/.exec(first)?.[1]);
    expect(first.startsWith("Zoho error REFRESH_RATE_LIMITED: ")).toBe(true);
    expect(seconds).toBeGreaterThanOrEqual(595);
    expect(seconds).toBeLessThanOrEqual(600);
    // Five more calls ask the accounts server nothing: each ask could extend Zoho's block.
    for (let i = 0; i < 5; i++) expect(text(await s.call("get_related_records", args))).toContain("REFRESH_RATE_LIMITED");
    expect(replay.requests.filter((q) => q.path === "/oauth/v2/token")).toHaveLength(1);
  });
});

afterAll(() => {
  // Every fixture on disk is replayed by some test above (or by the sub-record suites).
  const unused = fixtureNames().filter((n) => !served.has(n) && !n.startsWith("error-404-invalid-url-pattern"));
  expect(unused).toEqual([]);
});
