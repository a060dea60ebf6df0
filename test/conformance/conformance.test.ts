// Zoho's own answer shapes (test/fixtures/zoho/conformance/, each naming its source) and the forms we
// handle without a Zoho sample (test/fixtures/zoho/defensive/, each saying why) replayed over real
// HTTP on 127.0.0.1 through the real server: config, token manager, ky client, tools, MCP SDK client.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult, ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { Logger } from "../../src/log.js";
import { buildServer, createDeps } from "../../src/server.js";
import type { ToolDeps } from "../../src/tools/types.js";
import { CANARY } from "../helpers.js";
import { fixture, fixtureNames, kindOf, startReplay, type Replay } from "./replay.js";

/** A Zoho doc page or an SDK model file. */
const ZOHO_SOURCE = /^(https:\/\/(www\.)?(zoho\.com|help\.zoho\.com)\/|zoho\/zohocrm-[a-z]+-sdk-[0-9.]+: )/;

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
  readResource(uri: string): Promise<ReadResourceResult>;
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
    readResource: (uri) => client.readResource({ uri }),
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

describe("every fixture names its source: Zoho's, or why it is defensive", () => {
  it.each(fixtureNames())("%s", (name) => {
    // Only the two kinds' directories: a fixture anywhere else (test/fixtures/zoho/x.json) fails here.
    const kind = kindOf(name);
    const f = fixture(name);
    if (kind === "conformance") {
      // A Zoho doc page or an SDK model file, never our own invention.
      expect(f.source).toMatch(ZOHO_SOURCE);
    } else {
      // Our choice, said as such, with the reason (no Zoho sample to point at).
      expect(f.source).toMatch(/^defensive: .{60,}/);
    }
    expect(typeof f.status).toBe("number");
  });

  it("the check refuses a fixture that names no source, or claims neither kind", () => {
    expect("").not.toMatch(ZOHO_SOURCE);
    expect("our own sample").not.toMatch(ZOHO_SOURCE);
    expect("defensive").not.toMatch(/^defensive: .{60,}/);
    expect(() => kindOf("no-such-fixture")).toThrow(/no fixture no-such-fixture/);
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
    ["error-200-no-permission", "Zoho error NO_PERMISSION (HTTP 200): permission denied to read related records"],
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
  /** Serves the token answer `name`, makes one call, checks the token is kept an hour less a minute. */
  async function tokenKeptAnHour(name: string) {
    const s = await server();
    tokenAnswer(name);
    serve(NOTES_PATH, "related-notes");
    const before = Date.now();
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"] });
    expect(r.isError, text(r)).toBeFalsy();
    const left = s.deps.client.tokens.renewsAt! - before;
    expect(left).toBeGreaterThan(3_540_000 - 5_000);
    expect(left).toBeLessThanOrEqual(3_540_000 + 5_000);
  }

  it("success: the token lives Zoho's hour (less a minute's margin)", async () => {
    await tokenKeptAnHour("token-success");
    const sent = replay.requests.find((q) => q.path === NOTES_PATH)!;
    expect(sent.headers.authorization).toBe(`Zoho-oauthtoken ${(fixture("token-success").body as { access_token: string }).access_token}`);
  });

  it("expires_in_sec present: expires_in is milliseconds, so the token lives one hour, not a thousand", async () => {
    await tokenKeptAnHour("token-expires-in-sec");
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

const ACCOUNT = "4876876000000391004";
const CONTACT = "4876876000000624001";
const DEAL = "4876876000000633001";
const links = (r: CallToolResult) => r.content.filter((c) => c.type === "resource_link").map((c) => (c as { uri: string }).uri);

describe("answers of Get Related Records and its neighbours", () => {
  it("related-list metadata: list_related_lists names each list with its module", async () => {
    const s = await server();
    serve("/crm/v7/settings/related_lists", "related-lists-metadata");
    const r = await s.call("list_related_lists", { module_api_name: "Leads" });
    expect(r.isError, text(r)).toBeFalsy();
    const lists = (r.structuredContent as { related_lists: Array<{ api_name: string; module: string | null }> }).related_lists;
    expect(lists.map((l) => [l.api_name, l.module])).toEqual([
      ["Notes", "Notes"], ["Attachments", "Attachments"], ["Activities_Chronological_View", null], ["Emails", "Emails"],
    ]);
    expect(replay.requests.find((q) => q.path === "/crm/v7/settings/related_lists")?.query).toEqual({ module: "Leads" });
  });

  it("defensive: a Stage_History entry with no module of its own gets no links and stage columns by default", async () => {
    const s = await server();
    serve("/crm/v7/settings/related_lists", "related-lists-metadata-stage-history");
    const path = `/crm/v7/Deals/${DEAL}/Stage_History`;
    serve(path, "related-notes"); // any rows: what matters is what is asked and linked
    const r = await s.call("get_related_records", { module_api_name: "Deals", record_id: DEAL, related_list_api_name: "Stage_History" });
    expect(r.isError, text(r)).toBeFalsy();
    expect(links(r)).toEqual([]);
    expect(text(r)).toContain("Stage_History records have no links");
    expect(replay.requests.find((q) => q.path === path)?.query.fields?.split(",")).toEqual(expect.arrayContaining(["Stage", "Moved_To__s", "Modified_Time", "Modified_By"]));
  });

  it("Contacts of an Account: rows in the fields' order, links to Get Record", async () => {
    const s = await server();
    serve(`/crm/v7/Accounts/${ACCOUNT}/Contacts`, "related-contacts");
    const r = await s.call("get_related_records", { module_api_name: "Accounts", record_id: ACCOUNT, related_list_api_name: "Contacts", fields: ["Full_Name", "Email", "Phone"] });
    expect(text(r).split("\n").slice(0, 3)).toEqual([
      `Contacts of Accounts ${ACCOUNT}: 2 records. Columns: id | Full_Name | Email | Phone`,
      "4876876000000624001 | Kris Marrier | kris.marrier@king.example | 555-555-5555",
      "4876876000000624013 | Sage Wieser | sage.wieser@truhlar.example",
    ]);
    expect(links(r)).toEqual(["zohocrm://records/Contacts/4876876000000624001", "zohocrm://records/Contacts/4876876000000624013"]);
    expect(replay.requests.find((q) => q.path.endsWith("/Contacts"))?.query).toMatchObject({ fields: "Full_Name,Email,Phone" });
  });

  it("Deals of a Contact", async () => {
    const s = await server();
    serve(`/crm/v7/Contacts/${CONTACT}/Deals`, "related-deals");
    const r = await s.call("get_related_records", { module_api_name: "Contacts", record_id: CONTACT, related_list_api_name: "Deals", fields: ["Deal_Name", "Stage", "Amount"] });
    expect(text(r).split("\n")[1]).toBe("4876876000000633001 | Benton Renewal | Qualification | 12500.5");
    expect((r.structuredContent as { records: unknown[] }).records).toEqual((fixture("related-deals").body as { data: unknown[] }).data);
  });

  it("open activities: each row in its own $module, the queried fields", async () => {
    const s = await server();
    serve(`/crm/v7/Accounts/${ACCOUNT}/Activities_Chronological_View`, "activities-open");
    const r = await s.call("get_open_activities", { module_api_name: "Accounts", record_id: ACCOUNT, fields: ["Subject", "Due_Date"] });
    expect(text(r).split("\n").slice(1, 3)).toEqual([
      "4876876000000636019 [Calls] Subject: Demo follow-up",
      "4876876000000636031 [Tasks] Subject: Send the proposal · Due_Date: 2026-06-27",
    ]);
    expect(links(r)).toEqual(["zohocrm://records/Calls/4876876000000636019", "zohocrm://records/Tasks/4876876000000636031"]);
  });

  it("defensive: activity rows that carry What_Id and $se_module: What_Id by name, $se_module kept", async () => {
    const s = await server();
    serve(`/crm/v7/Accounts/${ACCOUNT}/Activities_Chronological_View`, "activities-open-related-to");
    const r = await s.call("get_open_activities", { module_api_name: "Accounts", record_id: ACCOUNT, fields: ["Subject", "What_Id", "Due_Date"] });
    expect(text(r).split("\n").slice(1, 3)).toEqual([
      "4876876000000636019 [Calls] Subject: Demo follow-up · What_Id: Zylker Logistics",
      "4876876000000636031 [Tasks] Subject: Send the proposal · What_Id: Zylker Logistics · Due_Date: 2026-06-27",
    ]);
    expect(links(r)).toEqual(["zohocrm://records/Calls/4876876000000636019", "zohocrm://records/Tasks/4876876000000636031"]);
    expect((r.structuredContent as { records: Array<Record<string, unknown>> }).records[0]).toMatchObject({ $se_module: "Accounts", $module: "Calls" });
  });

  it("Emails: records under Emails, identified by message_id, with links under the parent; the link reads View Email", async () => {
    const s = await server();
    serve(`/crm/v7/Leads/${LEAD}/Emails`, "emails-list");
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Emails" });
    expect(r.isError, text(r)).toBeFalsy();
    const id = "5d6c4b3a2f1e0d9c8b7a69584736251403f2e1d0c9b8a79685746352413f2e1d";
    expect(text(r).split("\n")[1]).toBe(`${id.slice(0, 12)}… | Proposal for the Q3 rollout | patricia.boyle@zylker.example | 2026-03-09T09:02:45+05:30 | opened / 2026-03-09T09:30:00+05:30 / 2026-03-09T09:30:00+05:30`);
    // The link carries the row's owner.id: View Email needs it as user_id for a colleague's email.
    expect(links(r)).toEqual([`zohocrm://records/Leads/${LEAD}/Emails/${id}?user_id=4876876000000327001`]);
    serve(`/crm/v7/Leads/${LEAD}/Emails/${id}`, "email-single");
    const read = await s.readResource(links(r)[0]!);
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toEqual((fixture("email-single").body as { Emails: unknown[] }).Emails[0]);
    expect(replay.requests.find((q) => q.path === `/crm/v7/Leads/${LEAD}/Emails/${id}`)?.query).toEqual({ user_id: "4876876000000327001" });
  });

  it("Attachments: links under the parent; the link is the file, with Zoho's content type", async () => {
    const s = await server();
    serve(`/crm/v7/Deals/${DEAL}/Attachments`, "attachments-list");
    const r = await s.call("get_related_records", { module_api_name: "Deals", record_id: DEAL, related_list_api_name: "Attachments", fields: ["File_Name", "Size"] });
    expect(text(r).split("\n")[1]).toBe("4876876000000640001 | proposal.pdf | 46");
    expect(links(r)).toEqual([`zohocrm://records/Deals/${DEAL}/Attachments/4876876000000640001`]);
    serve(`/crm/v7/Deals/${DEAL}/Attachments/4876876000000640001`, "attachment-file");
    const read = await s.readResource(`zohocrm://records/Deals/${DEAL}/Attachments/4876876000000640001`);
    const file = read.contents[0] as { mimeType: string; blob: string };
    expect(file.mimeType).toBe("application/pdf");
    expect(file.blob).toBe(fixture("attachment-file").bodyBase64);
  });

  it("an attachment sent as application/x-download reads as the type its file name says", async () => {
    const s = await server();
    serve(`/crm/v7/Deals/${DEAL}/Attachments/4876876000000640001`, "attachment-file-x-download");
    const read = await s.readResource(`zohocrm://records/Deals/${DEAL}/Attachments/4876876000000640001`);
    const file = read.contents[0] as { mimeType: string; blob: string; _meta?: { fileName?: string } };
    expect(file.mimeType).toBe("application/pdf");
    expect(file._meta?.fileName).toBe("proposal.pdf");
    expect(file.blob).toBe(fixture("attachment-file-x-download").bodyBase64);
  });

  it("a Link URL attachment links to its address, not to a download", async () => {
    const s = await server();
    serve(`/crm/v7/Deals/${DEAL}/Attachments`, "attachments-list-link-url");
    const r = await s.call("get_related_records", { module_api_name: "Deals", record_id: DEAL, related_list_api_name: "Attachments", fields: ["File_Name", "Size"] });
    expect(r.isError, text(r)).toBeFalsy();
    expect(links(r)).toEqual([`zohocrm://records/Deals/${DEAL}/Attachments/4876876000000640001`, "https://www.zylker.example/tour"]);
  });

  it("204: zero records, not an error", async () => {
    const s = await server();
    serve(NOTES_PATH, "empty-204");
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"] });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ count: 0, records: [], more_records: false, not_modified: false });
    expect(text(r)).toContain("No related records.");
  });

  it("304: nothing changed since the given time, not an error", async () => {
    const s = await server();
    serve(NOTES_PATH, "not-modified-304");
    const since = "2026-03-01T00:00:00+05:30";
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"], if_modified_since: since });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ count: 0, not_modified: true });
    expect(text(r)).toContain(`Nothing changed since ${since} (HTTP 304).`);
    expect(replay.requests.find((q) => q.path === NOTES_PATH)?.headers["if-modified-since"]).toBeDefined();
  });

  it("fields metadata: the default fields come from it when the list names none", async () => {
    const s = await server();
    serve("/crm/v7/settings/fields", "fields-metadata");
    serve(NOTES_PATH, "related-notes");
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes" });
    expect(r.isError, text(r)).toBeFalsy();
    expect((r.structuredContent as { fields: string[] }).fields).toEqual(["Note_Title", "Note_Content", "Owner", "Created_Time", "Modified_Time"]);
    expect(replay.requests.find((q) => q.path === NOTES_PATH)?.query.fields).toBe("Note_Title,Note_Content,Owner,Created_Time,Modified_Time");
  });

  it("Get Record: a record link reads the record", async () => {
    const s = await server();
    serve("/crm/v7/Notes/4876876000001017003", "record-note");
    const read = await s.readResource("zohocrm://records/Notes/4876876000001017003");
    const record = JSON.parse((read.contents[0] as { text: string }).text) as Record<string, unknown>;
    expect(record).toMatchObject({ id: "4876876000001017003", Note_Title: "Call back on Tuesday", Note_Content: "Budget confirmed." });
    expect(record).not.toHaveProperty("Is_Record_Duplicate"); // nulls dropped
  });

  it("paging fields: next_page_token, previous_page_token and page_token_expiry passed on; the expiry in the text", async () => {
    const s = await server();
    serve(NOTES_PATH, "related-notes-paged");
    const r = await s.call("get_related_records", { module_api_name: "Leads", record_id: LEAD, related_list_api_name: "Notes", fields: ["Note_Title"], per_page: 1, page_token: "7xa01ee1c7f4x" });
    expect(r.structuredContent).toMatchObject({ next_page_token: "c8582xx9e7c2", previous_page_token: "7xa01ee1c7f4", page_token_expiry: "2026-03-15T10:22:31+05:30", more_records: true });
    expect(text(r)).toContain('call again with page_token="c8582xx9e7c2" (valid until 2026-03-15T10:22:31+05:30)');
  });
});

afterAll(() => {
  // Every fixture on disk is replayed by some test above (or by the sub-record suites).
  const unused = fixtureNames().filter((n) => !served.has(n) && !n.startsWith("error-404-invalid-url-pattern"));
  expect(unused).toEqual([]);
});
