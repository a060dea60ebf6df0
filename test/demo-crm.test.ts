// Tests of the fake Zoho itself, over real HTTP with plain fetch: if the demo CRM drifts from
// Zoho's documented behaviour, every other test of the project would be testing the wrong thing.

import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startDemoCrm, type DemoCrm } from "../src/demo/crm.js";
import { DEMO } from "../src/demo/seed.js";

let crm: DemoCrm;
let token: string;

beforeAll(async () => {
  crm = await startDemoCrm();
  token = crm.issueAccessToken();
});
afterAll(() => crm.close());
afterEach(() => {
  Object.assign(crm.faults, { latencyMs: 0, status429: 0, status5xx: 0, hang: 0, reset: 0, malformed: 0, concurrencyLimit: undefined, retryAfterSeconds: undefined, status5xxCode: undefined });
});

type Json = Record<string, any>;

function api(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const t = init.token === undefined ? token : init.token;
  if (t !== null) headers.set("authorization", `Zoho-oauthtoken ${t}`);
  return fetch(`${crm.url}${path}`, { ...init, headers });
}

async function json(path: string, init?: RequestInit & { token?: string | null }): Promise<{ status: number; body: Json; res: Response }> {
  const res = await api(path, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, res };
}

async function expectError(path: string, status: number, code: string, init?: RequestInit & { token?: string | null }): Promise<Json> {
  const { status: got, body, res } = await json(path, init);
  expect({ got, code: body.code }).toEqual({ got: status, code });
  expect(body.status).toBe("error");
  expect(typeof body.message).toBe("string");
  expect(body.details).toBeTypeOf("object");
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return body;
}

const notesOf = (id: string, query = "fields=Note_Title") => `/crm/v7/Leads/${id}/Notes?${query}`;

function tokenRequest(params: Record<string, string>, where: "body" | "query" = "body"): Promise<Response> {
  const form = new URLSearchParams(params).toString();
  return where === "body"
    ? fetch(`${crm.url}/oauth/v2/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form })
    : fetch(`${crm.url}/oauth/v2/token?${form}`, { method: "POST" });
}
const goodRefresh = { grant_type: "refresh_token", client_id: "demo-client-id", client_secret: "demo-client-secret", refresh_token: "demo-refresh-token" };

describe("OAuth token endpoint", () => {
  it("issues a usable Bearer token, from the form body or the query string", async () => {
    crm.resetStats();
    for (const where of ["body", "query"] as const) {
      const res = await tokenRequest(goodRefresh, where);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(body).toMatchObject({ api_domain: crm.url, token_type: "Bearer", expires_in: 3600 });
      expect(body.access_token).toMatch(/^1000\.[0-9a-f]+\.[0-9a-f]+$/);
      expect(body.scope).toContain("ZohoCRM.settings.related_lists.READ");
      expect((await api(notesOf(DEMO.leadId), { token: body.access_token })).status).toBe(200);
    }
    expect(crm.stats).toMatchObject({ tokenRequests: 2, tokensIssued: 2 });
  });

  it("answers failures with HTTP 200 and an error field, like Zoho", async () => {
    crm.resetStats();
    const badClient = await tokenRequest({ ...goodRefresh, client_secret: "nope" });
    expect(badClient.status).toBe(200);
    expect(await badClient.json()).toEqual({ error: "invalid_client" });
    const badRefresh = await tokenRequest({ ...goodRefresh, refresh_token: "1000.expired" });
    expect(badRefresh.status).toBe(200);
    expect(await badRefresh.json()).toEqual({ error: "invalid_code" });
    expect(crm.stats).toMatchObject({ tokenRequests: 2, tokensIssued: 0 });
  });

  it("blocks token creation past the refresh limit for the rest of the window", async () => {
    const limited = await startDemoCrm({ refreshLimit: { max: 2, windowMs: 60_000 } });
    try {
      const refresh = () => fetch(`${limited.url}/oauth/v2/token`, { method: "POST", body: new URLSearchParams(goodRefresh) });
      expect(((await (await refresh()).json()) as Json).access_token).toBeTypeOf("string");
      expect(((await (await refresh()).json()) as Json).access_token).toBeTypeOf("string");
      const denied = await refresh();
      // Zoho keeps HTTP 200 here (test/fixtures/zoho/token-too-many-requests.json).
      expect(denied.status).toBe(200);
      expect(await denied.json()).toEqual({ error_description: "You have made too many requests continuously. Please try again after some time.", error: "Access Denied", status: "failure" });
      expect(limited.stats).toMatchObject({ tokenRequests: 3, tokensIssued: 2 });
    } finally {
      await limited.close();
    }
  });

  it("lets tokens expire after tokenTtlSeconds, and expireAllTokens() revokes them", async () => {
    const shortLived = await startDemoCrm({ tokenTtlSeconds: 60 });
    try {
      const res = await fetch(`${shortLived.url}/oauth/v2/token`, { method: "POST", body: new URLSearchParams(goodRefresh) });
      const body = (await res.json()) as Json;
      expect(body.expires_in).toBe(60);
      const get = () => fetch(`${shortLived.url}/crm/v7/org`, { headers: { authorization: `Zoho-oauthtoken ${body.access_token}` } });
      expect((await get()).status).toBe(200);
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + 61_000);
      const expired = await get();
      vi.useRealTimers();
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as Json).code).toBe("INVALID_TOKEN");

      const fresh = shortLived.issueAccessToken();
      shortLived.expireAllTokens();
      const revoked = await fetch(`${shortLived.url}/crm/v7/org`, { headers: { authorization: `Zoho-oauthtoken ${fresh}` } });
      expect(((await revoked.json()) as Json).code).toBe("INVALID_TOKEN");
    } finally {
      vi.useRealTimers();
      await shortLived.close();
    }
  });
});

describe("authentication and request errors", () => {
  it("401 AUTHENTICATION_FAILURE without a Zoho-oauthtoken header", async () => {
    await expectError(notesOf(DEMO.leadId), 401, "AUTHENTICATION_FAILURE", { token: null });
    await expectError(notesOf(DEMO.leadId), 401, "AUTHENTICATION_FAILURE", { token: null, headers: { authorization: `Bearer ${token}` } });
  });
  it("401 INVALID_TOKEN for an unknown token", async () => {
    const body = await expectError(notesOf(DEMO.leadId), 401, "INVALID_TOKEN", { token: "1000.abc.def" });
    expect(body.message).toBe("invalid oauth token");
  });
  it("400 INVALID_REQUEST_METHOD for anything but GET", async () => {
    await expectError(notesOf(DEMO.leadId), 400, "INVALID_REQUEST_METHOD", { method: "POST" });
    await expectError(notesOf(DEMO.leadId), 400, "INVALID_REQUEST_METHOD", { method: "DELETE" });
  });
  it("404 INVALID_URL_PATTERN for unknown path shapes", async () => {
    await expectError(`/crm/v7/Leads/${DEMO.leadId}/Notes/extra?fields=Note_Title`, 404, "INVALID_URL_PATTERN");
    await expectError(`/crm/v2/Leads/${DEMO.leadId}/Notes?fields=Note_Title`, 404, "INVALID_URL_PATTERN");
    // Zoho's sample URL typo (module twice) is not a valid path.
    await expectError(`/crm/v7/Leads/Leads/${DEMO.leadId}/Activities_Chronological_View?fields=Subject`, 404, "INVALID_URL_PATTERN");
  });
  it("400 INVALID_MODULE (case-sensitive) and NOT_SUPPORTED", async () => {
    await expectError(notesOf(DEMO.leadId).replace("Leads", "leads"), 400, "INVALID_MODULE");
    await expectError(`/crm/v7/Widgets/${DEMO.leadId}/Notes?fields=Note_Title`, 400, "INVALID_MODULE");
    await expectError(`/crm/v7/Documents/${DEMO.leadId}/Notes?fields=Note_Title`, 400, "NOT_SUPPORTED");
    await expectError(`/crm/v7/Projects/${DEMO.leadId}`, 400, "NOT_SUPPORTED");
  });
  it("400 INVALID_DATA for an unknown record, an unknown list and a hidden list", async () => {
    expect((await expectError(notesOf("4876876000000999999"), 400, "INVALID_DATA")).details).toEqual({ id: "4876876000000999999" });
    expect((await expectError(`/crm/v7/Leads/${DEMO.leadId}/Widgets?fields=id`, 400, "INVALID_DATA")).details).toEqual({ api_name: "Widgets" });
    expect((await expectError(`/crm/v7/Leads/${DEMO.leadId}/notes?fields=id`, 400, "INVALID_DATA")).details).toEqual({ api_name: "notes" });
    expect((await expectError(`/crm/v7/Accounts/${DEMO.accountId}/Social?fields=id`, 400, "INVALID_DATA")).details).toEqual({ api_name: "Social" });
    await expectError(`/crm/v7/Leads/${DEMO.leadId}/Visits_Zoho_Livedesk?fields=id`, 400, "INVALID_DATA");
  });
  it("restricted related lists: OAUTH_SCOPE_MISMATCH 401, NO_PERMISSION 403, AUTHORIZATION_FAILED 400", async () => {
    await expectError(`/crm/v7/Accounts/${DEMO.accountId}/Cases?fields=Subject`, 401, "OAUTH_SCOPE_MISMATCH");
    await expectError(`/crm/v7/Accounts/${DEMO.accountId}/Invoices?fields=Subject`, 403, "NO_PERMISSION");
    await expectError(`/crm/v7/Accounts/${DEMO.accountId}/Quotes?fields=Subject`, 400, "AUTHORIZATION_FAILED");
  });
  it("400 REQUIRED_PARAM_MISSING without fields, LIMIT_EXCEEDED past 50 fields", async () => {
    expect((await expectError(`/crm/v7/Leads/${DEMO.leadId}/Notes`, 400, "REQUIRED_PARAM_MISSING")).details).toEqual({ param_name: "fields" });
    await expectError(notesOf(DEMO.leadId, "fields="), 400, "REQUIRED_PARAM_MISSING");
    const fifty = Array.from({ length: 50 }, (_, i) => `Field_${i}`).join(",");
    expect((await api(notesOf(DEMO.leadId, `fields=${fifty}`))).status).toBe(200);
    await expectError(notesOf(DEMO.leadId, `fields=${fifty},One_More`), 400, "LIMIT_EXCEEDED");
  });
  it("400 INVALID_DATA naming the parameter for invalid values", async () => {
    const cases: Array<[string, string]> = [
      ["per_page=0", "per_page"], ["per_page=201", "per_page"], ["per_page=abc", "per_page"], ["page=0", "page"],
      ["page=-1", "page"], ["sort_by=Note_Title", "sort_by"], ["sort_order=up", "sort_order"], ["ids=abc", "ids"],
      ["converted=maybe", "converted"], ["page_token=", "page_token"],
    ];
    for (const [query, param] of cases) {
      const body = await expectError(notesOf(DEMO.leadId, `fields=Note_Title&${query}`), 400, "INVALID_DATA");
      expect(body.details).toEqual({ param_name: param });
    }
    const ims = await expectError(notesOf(DEMO.leadId), 400, "INVALID_DATA", { headers: { "if-modified-since": "yesterday-ish" } });
    expect(ims.details).toEqual({ param_name: "If-Modified-Since" });
  });
});

describe("Get Related Records", () => {
  it("returns Brian Dylan's 7 notes with only id and the requested fields, newest id first", async () => {
    const { status, body } = await json(notesOf(DEMO.leadId, "fields=Note_Title,Note_Content,Owner,Parent_Id,No_Such_Field"));
    expect(status).toBe(200);
    expect(body.info).toEqual({ per_page: 200, count: 7, page: 1, more_records: false, next_page_token: null, previous_page_token: null, page_token_expiry: null });
    expect(body.data.map((r: Json) => r.id)).toEqual([...DEMO.leadNoteIds].reverse());
    for (const row of body.data as Json[]) {
      expect(Object.keys(row).sort()).toEqual(["Note_Content", "Note_Title", "Owner", "Parent_Id", "id"]);
      expect(row.Parent_Id).toEqual({ name: "Brian Dylan", id: DEMO.leadId });
      expect(Object.keys(row.Owner).sort()).toEqual(["email", "id", "name"]);
    }
    expect(body.data.some((r: Json) => String(r.Note_Content).includes("\n"))).toBe(true);
  });

  it("sorts by Created_Time / Modified_Time in either order and filters by ids", async () => {
    const created = await json(notesOf(DEMO.leadId, "fields=Created_Time&sort_by=Created_Time&sort_order=asc"));
    const times = created.body.data.map((r: Json) => Date.parse(r.Created_Time));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const modified = await json(notesOf(DEMO.massImportLeadId, "fields=Modified_Time&sort_by=Modified_Time&per_page=200"));
    const mtimes = modified.body.data.map((r: Json) => Date.parse(r.Modified_Time));
    expect(mtimes).toEqual([...mtimes].sort((a, b) => b - a));
    const [a, b] = DEMO.leadNoteIds;
    const filtered = await json(notesOf(DEMO.leadId, `fields=Note_Title&ids=${a},${b},4876876000000999999`));
    expect(filtered.body.data.map((r: Json) => r.id).sort()).toEqual([a, b].sort());
  });

  it("lists open and closed activities with $module, each a real Calls/Tasks/Events record", async () => {
    const open = await json(`/crm/v7/Leads/${DEMO.leadId}/Activities_Chronological_View?fields=Subject,Event_Title,Call_Start_Time,Due_Date,Status,What_Id`);
    expect(open.status).toBe(200);
    expect(open.body.data.map((r: Json) => r.$module).sort()).toEqual(["Calls", "Calls", "Events", "Tasks"]);
    const task = open.body.data.find((r: Json) => r.$module === "Tasks");
    expect(task).toMatchObject({ Status: "Not Started", Due_Date: expect.any(String) });
    const closed = await json(`/crm/v7/Leads/${DEMO.leadId}/Activities_Chronological_View_History?fields=Subject,Status`);
    expect(closed.body.data.map((r: Json) => r.$module).sort()).toEqual(["Calls", "Events", "Tasks"]);
    // Chronological: the open ones upcoming first, the closed ones most recent first.
    expect(open.body.data.map((r: Json) => r.id)).toEqual([DEMO.leadOpenCallIds[0], DEMO.leadOpenTaskId, DEMO.leadOpenCallIds[1], DEMO.leadOpenEventId]);
    expect(closed.body.data.map((r: Json) => r.id)).toEqual([DEMO.leadClosedEventId, DEMO.leadClosedCallId, DEMO.leadClosedTaskId]);
    for (const row of [...open.body.data, ...closed.body.data] as Json[]) {
      const record = await json(`/crm/v7/${row.$module}/${row.id}`);
      expect(record.status).toBe(200);
      expect(record.body.data[0].id).toBe(row.id);
      expect(record.body.data[0].What_Id).toEqual({ name: "Brian Dylan", id: DEMO.leadId });
    }
  });

  it("answers 204 with no body for empty lists and pages past the end", async () => {
    for (const path of [
      `/crm/v7/Leads/${DEMO.leadId}/Attachments?fields=File_Name`,
      `/crm/v7/Leads/${DEMO.leadId}/Campaigns?fields=Campaign_Name`,
      `/crm/v7/Deals/${DEMO.dealId}/Partner_Accounts?fields=id`,
      notesOf(DEMO.leadId, "fields=Note_Title&page=2&per_page=5&ids=4876876000000999999"),
      notesOf(DEMO.leadId, "fields=Note_Title&page=3&per_page=5"),
    ]) {
      const res = await api(path);
      expect(res.status, path).toBe(204);
      expect(await res.text()).toBe("");
    }
  });

  it("honours If-Modified-Since: newer records only, 304 with no body when none changed", async () => {
    const since = "2026-02-20T00:00:00+05:30";
    const newer = await json(notesOf(DEMO.leadId, "fields=Modified_Time"), { headers: { "if-modified-since": since } });
    expect(newer.status).toBe(200);
    expect(newer.body.data.length).toBeGreaterThan(0);
    expect(newer.body.data.length).toBeLessThan(7);
    for (const row of newer.body.data as Json[]) expect(Date.parse(row.Modified_Time)).toBeGreaterThan(Date.parse(since));
    const none = await api(notesOf(DEMO.leadId), { headers: { "if-modified-since": "2026-12-01T00:00:00+05:30" } });
    expect(none.status).toBe(304);
    expect(await none.text()).toBe("");
  });

  it("filters a campaign's Leads by converted (default false)", async () => {
    const path = (extra: string) => `/crm/v7/Campaigns/${DEMO.campaignId}/Leads?fields=Full_Name,$converted${extra}`;
    const byDefault = await json(path(""));
    expect(byDefault.body.data).toHaveLength(DEMO.campaignLeadCount - DEMO.campaignConvertedLeadCount);
    expect(byDefault.body.data.every((r: Json) => r.$converted === false)).toBe(true);
    const converted = await json(path("&converted=true"));
    expect(converted.body.data).toHaveLength(DEMO.campaignConvertedLeadCount);
    expect(converted.body.data.every((r: Json) => r.$converted === true)).toBe(true);
    expect((await json(path("&converted=both"))).body.data).toHaveLength(DEMO.campaignLeadCount);
  });

  it("serves Zylker Inc's contacts, deals, notes and activities", async () => {
    const contacts = await json(`/crm/v7/Accounts/${DEMO.accountId}/Contacts?fields=Full_Name,Email,Account_Name`);
    expect(contacts.body.data).toHaveLength(DEMO.accountContactCount);
    expect(contacts.body.data[0].Account_Name).toEqual({ name: "Zylker Inc", id: DEMO.accountId });
    const deals = await json(`/crm/v7/Accounts/${DEMO.accountId}/Deals?fields=Deal_Name,Stage,Amount,Contact_Name`);
    expect(deals.body.data).toHaveLength(DEMO.accountDealCount);
    expect(deals.body.data[0].Contact_Name).toMatchObject({ id: expect.stringMatching(/^\d{19}$/) });
    expect((await json(`/crm/v7/Accounts/${DEMO.accountId}/Notes?fields=Note_Title`)).body.data).toHaveLength(DEMO.accountNoteCount);
    expect((await json(`/crm/v7/Accounts/${DEMO.accountId}/Activities_Chronological_View?fields=Subject`)).status).toBe(200);
  });
});

describe("pagination", () => {
  it("pages with page/per_page and keeps slices consistent", async () => {
    const all = await json(notesOf(DEMO.leadId, "fields=id"));
    const page2 = await json(notesOf(DEMO.leadId, "fields=id&per_page=3&page=2"));
    expect(page2.body.data.map((r: Json) => r.id)).toEqual(all.body.data.slice(3, 6).map((r: Json) => r.id));
    expect(page2.body.info).toMatchObject({ per_page: 3, count: 3, page: 2, more_records: true });
    expect(page2.body.info.next_page_token).toEqual(expect.any(String));
    expect(page2.body.info.previous_page_token).toEqual(expect.any(String));
    expect(Number.isNaN(Date.parse(page2.body.info.page_token_expiry))).toBe(false);
    const last = await json(notesOf(DEMO.leadId, "fields=id&per_page=3&page=3"));
    expect(last.body.info).toMatchObject({ count: 1, page: 3, more_records: false, next_page_token: null });
  });

  it("refuses page past 2000 records, then continues past 2000 with next_page_token", async () => {
    const base = "fields=Note_Title&per_page=200";
    const seen = new Set<string>();
    let info: Json = {};
    for (let page = 1; page <= 10; page++) {
      const { status, body } = await json(notesOf(DEMO.massImportLeadId, `${base}&page=${page}`));
      expect(status).toBe(200);
      for (const row of body.data as Json[]) seen.add(row.id);
      info = body.info;
    }
    expect(seen.size).toBe(2000);
    expect(info).toMatchObject({ page: 10, more_records: true });
    await expectError(notesOf(DEMO.massImportLeadId, `${base}&page=11`), 400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED");
    await expectError(notesOf(DEMO.massImportLeadId, "fields=Note_Title&per_page=100&page=21"), 400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED");

    let next: string | null = info.next_page_token;
    const pages: number[] = [];
    while (next) {
      const { status, body } = await json(notesOf(DEMO.massImportLeadId, `${base}&page_token=${encodeURIComponent(next)}`));
      expect(status).toBe(200);
      for (const row of body.data as Json[]) seen.add(row.id);
      pages.push(body.info.page);
      next = body.info.next_page_token;
      if (next === null) expect(body.info.more_records).toBe(false);
    }
    expect(pages).toEqual([11, 12, 13]);
    expect(seen.size).toBe(DEMO.massImportNoteCount);
  });

  it("rejects page with page_token, a token bound to other params, a garbled and an expired token", async () => {
    const first = await json(notesOf(DEMO.massImportLeadId, "fields=Note_Title&per_page=50"));
    const next = encodeURIComponent(first.body.info.next_page_token);
    await expectError(notesOf(DEMO.massImportLeadId, `fields=Note_Title&per_page=50&page=2&page_token=${next}`), 400, "AMBIGUITY_DURING_PROCESSING");
    for (const other of ["fields=Note_Title&per_page=100", "fields=Note_Title,Owner&per_page=50", "fields=Note_Title&per_page=50&sort_order=asc", "fields=Note_Title&per_page=50&sort_by=Modified_Time"]) {
      await expectError(notesOf(DEMO.massImportLeadId, `${other}&page_token=${next}`), 400, "TOKEN_BOUND_DATA_MISMATCH");
    }
    await expectError(`/crm/v7/Accounts/${DEMO.bulkAccountId}/Notes?fields=Note_Title&per_page=50&page_token=${next}`, 400, "TOKEN_BOUND_DATA_MISMATCH");
    await expectError(notesOf(DEMO.massImportLeadId, `fields=Note_Title&per_page=50&page_token=${next}`), 400, "TOKEN_BOUND_DATA_MISMATCH", { headers: { "if-modified-since": "2026-01-01T00:00:00Z" } });
    // Same params in another order and with the defaults spelled out: still the same binding.
    expect((await api(notesOf(DEMO.massImportLeadId, `per_page=50&sort_order=desc&sort_by=id&converted=false&fields=Note_Title&page_token=${next}`))).status).toBe(200);

    await expectError(notesOf(DEMO.massImportLeadId, "fields=Note_Title&per_page=50&page_token=not-a-token"), 400, "INVALID_DATA");
    await expectError(notesOf(DEMO.massImportLeadId, `fields=Note_Title&per_page=50&page_token=${next.slice(0, -3)}abc`), 400, "INVALID_DATA");

    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 25 * 3_600_000);
      const stillValid = crm.issueAccessToken(); // the access token would have expired too
      await expectError(notesOf(DEMO.massImportLeadId, `fields=Note_Title&per_page=50&page_token=${next}`), 400, "EXPIRED_VALUE", { token: stillValid });
    } finally {
      vi.useRealTimers();
    }
  });

  it("walks 10,500 notes of the bulk account with page tokens", async () => {
    const seen = new Set<string>();
    let path: string | null = `/crm/v7/Accounts/${DEMO.bulkAccountId}/Notes?fields=Note_Title,Modified_Time`;
    let requests = 0;
    while (path) {
      const { status, body } = await json(path);
      expect(status).toBe(200);
      requests++;
      for (const row of body.data as Json[]) seen.add(row.id);
      path = body.info.next_page_token ? `/crm/v7/Accounts/${DEMO.bulkAccountId}/Notes?fields=Note_Title,Modified_Time&page_token=${encodeURIComponent(body.info.next_page_token)}` : null;
    }
    expect(seen.size).toBe(DEMO.bulkNoteCount);
    expect(requests).toBe(Math.ceil(DEMO.bulkNoteCount / 200));
  });
});

describe("other endpoints", () => {
  it("GET /settings/related_lists describes lists like Zoho", async () => {
    const { status, body } = await json("/crm/v7/settings/related_lists?module=Leads");
    expect(status).toBe(200);
    const byName = new Map((body.related_lists as Json[]).map((l) => [l.api_name, l]));
    expect(byName.get("Notes")).toMatchObject({ module: { api_name: "Notes", id: expect.any(String) }, href: "Leads/{ENTITYID}/Notes", type: "default", status: "visible" });
    expect(byName.get("Activities_Chronological_View")).toMatchObject({ type: "grouped", module: null, href: null });
    expect(byName.get("Activities_Chronological_View_History")).toMatchObject({ type: "grouped", module: null, href: null });
    for (const list of body.related_lists as Json[]) {
      expect(typeof list.sequence_number).toBe("string");
      expect(Object.keys(list).sort()).toEqual(["api_name", "connectedmodule", "display_label", "href", "id", "linkingmodule", "module", "name", "sequence_number", "status", "type"]);
    }
    const accounts = await json("/crm/v7/settings/related_lists?module=Accounts");
    expect((accounts.body.related_lists as Json[]).find((l) => l.api_name === "Social")?.status).toBe("user_hidden");
    await expectError("/crm/v7/settings/related_lists", 400, "REQUIRED_PARAM_MISSING");
    await expectError("/crm/v7/settings/related_lists?module=Widgets", 400, "INVALID_MODULE");
  });

  it("GET /settings/fields lists the fields of a module", async () => {
    const { body } = await json("/crm/v7/settings/fields?module=Notes");
    const names = (body.fields as Json[]).map((f) => f.api_name);
    expect(names).toEqual(expect.arrayContaining(["Note_Title", "Note_Content", "Parent_Id", "Owner", "Created_Time", "Modified_Time"]));
    expect((body.fields as Json[])[0]).toMatchObject({ api_name: "Note_Title", display_label: "Note Title", data_type: "text" });
    await expectError("/crm/v7/settings/fields?module=widgets", 400, "INVALID_MODULE");
  });

  it("GET /{module}/{id} returns the record, optionally filtered by fields", async () => {
    const full = await json(`/crm/v7/Leads/${DEMO.leadId}`);
    expect(full.body.data[0]).toMatchObject({ id: DEMO.leadId, Full_Name: "Brian Dylan", Company: "Zylker Logistics", Owner: { name: "Patricia Boyle" } });
    expect(full.body.data[0].Created_Time).toMatch(/^2026-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/);
    const some = await json(`/crm/v7/Leads/${DEMO.leadId}?fields=Email`);
    expect(some.body.data[0]).toEqual({ Email: "brian.dylan@zylker-logistics.com", id: DEMO.leadId });
    const bulkNote = await json(`/crm/v7/Notes/4876876000200000042?fields=Parent_Id`);
    expect(bulkNote.body.data[0].Parent_Id).toEqual({ name: "Globex Bulk Archive", id: DEMO.bulkAccountId });
    expect((await expectError(`/crm/v7/Leads/${DEMO.accountId}`, 400, "INVALID_DATA")).details).toEqual({ id: DEMO.accountId });
    await expectError(`/crm/v7/Gadgets/${DEMO.leadId}`, 400, "INVALID_MODULE");
  });

  it("GET /org returns the domain name for web links", async () => {
    const { body } = await json("/crm/v7/org");
    expect(body.org[0]).toMatchObject({ domain_name: DEMO.orgDomain, company_name: "Zylker Demo" });
  });
});

describe("faults and stats", () => {
  it("429 TOO_MANY_REQUESTS with Retry-After for the next N requests", async () => {
    Object.assign(crm.faults, { status429: 2, retryAfterSeconds: 7 });
    for (let i = 0; i < 2; i++) {
      const { res } = await json("/crm/v7/org");
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("7");
    }
    expect((await api("/crm/v7/org")).status).toBe(200);
  });

  it("5xx INTERNAL_ERROR with the configured status", async () => {
    crm.faults.status5xx = 2;
    await expectError("/crm/v7/org", 500, "INTERNAL_ERROR");
    crm.faults.status5xxCode = 503;
    await expectError("/crm/v7/org", 503, "INTERNAL_ERROR");
    expect((await api("/crm/v7/org")).status).toBe(200);
  });

  it("malformed JSON, connection resets and hangs", async () => {
    crm.faults.malformed = 1;
    const bad = await api("/crm/v7/org");
    expect(bad.status).toBe(200);
    expect(bad.headers.get("content-type")).toMatch(/json/);
    await expect(bad.json()).rejects.toThrow();

    crm.faults.reset = 1;
    await expect(api("/crm/v7/org")).rejects.toThrow();

    crm.resetStats();
    crm.faults.hang = 1;
    await expect(api("/crm/v7/org", { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    await vi.waitFor(() => expect(crm.stats.inFlight).toBe(0));
    expect(crm.stats.requests[0]?.status).toBe(0);
    expect((await api("/crm/v7/org")).status).toBe(200);
  });

  it("adds latency, tracks in-flight requests and enforces a concurrency limit", async () => {
    crm.resetStats();
    Object.assign(crm.faults, { latencyMs: 100, concurrencyLimit: 2 });
    const started = Date.now();
    const statuses = await Promise.all(Array.from({ length: 5 }, () => api("/crm/v7/org").then((r) => r.status)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    expect(crm.stats).toMatchObject({ crmRequests: 5, inFlight: 0, maxInFlight: 5 });
  });

  it("records every /crm request without the token", async () => {
    crm.resetStats();
    await api(notesOf(DEMO.leadId, "fields=Note_Title&per_page=2"), { headers: { "if-modified-since": "2026-01-01T00:00:00+05:30" } });
    expect(crm.stats.requests).toHaveLength(1);
    const [request] = crm.stats.requests;
    expect(request).toMatchObject({
      method: "GET", path: `/crm/v7/Leads/${DEMO.leadId}/Notes`, query: { fields: "Note_Title", per_page: "2" }, status: 200,
    });
    expect(request?.headers.authorization).toBe("Zoho-oauthtoken ***");
    expect(request?.headers["if-modified-since"]).toBe("2026-01-01T00:00:00+05:30");
    expect(request!.endedAt).toBeGreaterThanOrEqual(request!.startedAt);
    expect(JSON.stringify(crm.stats)).not.toContain(token);
  });

  it("close() returns promptly even with a hung request", async () => {
    const other = await startDemoCrm();
    other.faults.hang = 1;
    const pending = fetch(`${other.url}/crm/v7/org`, { headers: { authorization: `Zoho-oauthtoken ${other.issueAccessToken()}` } }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(other.stats.inFlight).toBe(1));
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it("never writes to stdout (stdout is JSON-RPC in demo mode)", () => {
    const dir = new URL("../src/demo/", import.meta.url);
    // Only the server's own files (the demo tour, an MCP client, lives in scripts/).
    for (const file of ["crm.ts", "seed.ts", "schema.ts", "search.ts"]) {
      const source = readFileSync(new URL(file, dir), "utf8");
      expect(source, file).not.toMatch(/console\.|process\.stdout/);
    }
  });
});

// Zoho's Search Records as its v7 page and the SDKs' SearchRecordsParam describe it.
describe("Search Records (GET /crm/v7/{module}/search)", () => {
  const search = (module: string, params: Record<string, string>) => json(`/crm/v7/${module}/search?${new URLSearchParams(params)}`);
  const ids = (body: Json) => (body.data as Json[]).map((r) => r.id);

  it("word, email and phone over the module's fields of those types; converted leads only when asked", async () => {
    expect((await search("Leads", { word: "Brian Dylan" })).status).toBe(204); // the lead is converted: Zoho's default leaves it out
    expect(ids((await search("Leads", { word: "brian dyl", converted: "both" })).body)).toEqual([DEMO.leadId]);
    expect(ids((await search("Leads", { word: "Brian", converted: "true" })).body)).toEqual([DEMO.leadId]);
    expect(ids((await search("Contacts", { email: DEMO.leadEmail.toUpperCase() })).body)).toEqual([DEMO.leadContactId]);
    expect(ids((await search("Contacts", { phone: "(415) 555-0142" })).body)).toEqual([DEMO.leadContactId]);
    expect((await search("Contacts", { email: "nobody@example.com" })).status).toBe(204);
  });

  it("criteria with and/or, Zoho's operators and escaped values; the first of criteria, email, phone, word wins", async () => {
    const both = (await search("Contacts", { criteria: "((Last_Name:equals:Dylan)or(Last_Name:equals:Liu))" })).body;
    expect((both.data as Json[]).map((r) => r.Full_Name).sort()).toEqual(["Brian Dylan", "Grace Liu"]);
    expect(ids((await search("Contacts", { criteria: "(Last_Name:equals:Dylan)", word: "Liu" })).body)).toEqual([DEMO.leadContactId]);
    expect(ids((await search("Contacts", { email: DEMO.leadEmail, word: "Liu" })).body)).toEqual([DEMO.leadContactId]);
    expect((await search("Accounts", { criteria: "(Account_Name:equals:Zylker \\(US\\)\\, Inc)" })).status).toBe(204);
    await expectError(`/crm/v7/Accounts/search?${new URLSearchParams({ criteria: "(Account_Name:equals:Zylker (US))" })}`, 400, "INVALID_QUERY");
    const operator = await expectError(`/crm/v7/Leads/search?${new URLSearchParams({ criteria: "(Last_Name:contains:Dyl)" })}`, 400, "INVALID_QUERY");
    expect(operator.details).toMatchObject({ reason: "invalid operator found", operator: "contains" });
    const eleven = Array.from({ length: 11 }, (_, i) => `(Last_Name:equals:n${i})`).join("or");
    await expectError(`/crm/v7/Leads/search?${new URLSearchParams({ criteria: `(${eleven})` })}`, 400, "LIMIT_EXCEEDED");
    await expectError("/crm/v7/Leads/search?fields=Email", 400, "REQUIRED_PARAM_MISSING");
  });

  it("pages within record 2000, fields with the $ keys, and the Modules API's web names", async () => {
    const page = await search("Contacts", { criteria: "(Account_Name:equals:Zylker Inc)", per_page: "5", page: "2", fields: "Full_Name" });
    expect(page.body.info).toMatchObject({ per_page: 5, count: 5, page: 2, more_records: true });
    expect(Object.keys((page.body.data as Json[])[0]!).sort()).toEqual(["$editable", "Full_Name", "id"]);
    await expectError("/crm/v7/Leads/search?word=ab&page=11&per_page=200", 400, "LIMIT_REACHED");
    const modules = (await json("/crm/v7/settings/modules")).body.modules as Json[];
    expect(modules.find((m) => m.api_name === "Deals")).toMatchObject({ module_name: "Potentials", singular_label: "Deal", plural_label: "Deals" });
    expect(modules.find((m) => m.api_name === "Shipments")).toMatchObject({ module_name: "CustomModule1" });
  });
});
