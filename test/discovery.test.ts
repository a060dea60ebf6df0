import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

/** One entry of get_related_overview's structuredContent.related_lists. */
interface ListOut {
  api_name: string;
  display_label: string;
  module: string | null;
  status: string;
  count: number;
  more_records: boolean;
  records: Array<{ id: string; $module?: string } & Record<string, unknown>>;
  fields?: string[];
  fields_source?: string;
  error?: string;
}

const listsOf = (result: CallToolResult) => {
  const lists = (result.structuredContent as { related_lists: ListOut[] }).related_lists;
  return new Map(lists.map((l) => [l.api_name, l]));
};
const links = (result: CallToolResult) => result.content.filter((c) => c.type === "resource_link").map((c) => (c as { uri: string }).uri);

/** Requests the demo CRM received, by kind. */
function requestsOf(h: Harness) {
  const all = h.crm.stats.requests;
  const metadata = (kind: "related_lists" | "fields", module?: string) =>
    all.filter((r) => r.path === `/crm/v7/settings/${kind}` && (module === undefined || r.query.module === module));
  // GET /org gives the record's web address, beside the lists: not a list.
  const lists = all.filter((r) => !r.path.startsWith("/crm/v7/settings/") && r.path !== "/crm/v7/org");
  return { all, metadata, lists };
}

const overview = (h: Harness, args: Record<string, unknown>) => h.call("get_related_overview", args);
const lead = { module_api_name: "Leads", record_id: DEMO.leadId };
const account = { module_api_name: "Accounts", record_id: DEMO.accountId };

describe("get_related_overview against the demo CRM", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("answers for the demo lead in one call: one request per visible list plus metadata, then lists only", async () => {
    const result = await overview(h, lead);
    expect(result.isError).toBeFalsy();
    const lists = listsOf(result);
    const visible = [...lists.values()].filter((l) => l.status !== "scheduled_for_deletion" && l.status !== "user_hidden");

    const { metadata, lists: listRequests } = requestsOf(h);
    // One request per visible related list, each list once; the scheduled-for-deletion one is not asked.
    expect(listRequests.map((r) => r.path).sort()).toEqual(visible.map((l) => `/crm/v7/Leads/${DEMO.leadId}/${l.api_name}`).sort());
    // Zoho's Emails API takes no per_page (ten per call); every other list is asked for a full page.
    expect(listRequests.filter((r) => !r.path.endsWith("/Emails")).every((r) => r.query.per_page === "200")).toBe(true);
    expect(listRequests.find((r) => r.path.endsWith("/Emails"))?.query).toEqual({});
    expect(metadata("related_lists")).toHaveLength(1);
    const fieldModules = metadata("fields").map((r) => r.query.module);
    expect(new Set(fieldModules).size).toBe(fieldModules.length);

    expect(lists.get("Notes")).toMatchObject({ status: "ok", count: 7, more_records: false, module: "Notes" });
    expect(lists.get("Notes")?.records.map((r) => r.id)).toEqual([...DEMO.leadNoteIds].reverse().slice(0, 5));
    expect(lists.get("Activities_Chronological_View")).toMatchObject({ status: "ok", count: 4, module: null });
    expect(lists.get("Activities_Chronological_View_History")).toMatchObject({ status: "ok", count: 3 });
    for (const empty of ["Attachments", "Campaigns", "Products"]) expect(lists.get(empty)).toMatchObject({ status: "empty", count: 0, records: [] });
    // Emails come from Zoho's Emails API (records under "Emails", each named by message_id).
    expect(lists.get("Emails")).toMatchObject({ status: "ok", count: 3, more_records: false });
    expect(lists.get("Emails")?.records.map((r) => r.id)).toEqual([...DEMO.leadEmailIds]);
    expect(lists.get("Visits_Zoho_Livedesk")).toMatchObject({ status: "scheduled_for_deletion", count: 0 });

    // Every record shown has a resource link in its own module.
    const uris = links(result);
    expect(uris).toHaveLength(5 + 4 + 3 + 3);
    expect(uris).toContain(`zohocrm://records/Leads/${DEMO.leadId}/Emails/${DEMO.leadEmailIds[0]}?user_id=${DEMO.userId}`);
    expect(uris).toContain(`zohocrm://records/Notes/${DEMO.leadNoteIds[6]}`);
    expect(uris).toContain(`zohocrm://records/Calls/${DEMO.leadOpenCallIds[0]}`);
    expect(uris).toContain(`zohocrm://records/Events/${DEMO.leadClosedEventId}`);

    const text = h.text(result);
    expect(text).toContain("Notes: 7, first 5");
    expect(text).toContain('Activities_Chronological_View "Open activities": 4\n');
    expect(text).toMatch(/^Attachments: none$/m);
    expect(text).toMatch(/^Visits_Zoho_Livedesk "Visits": skipped, scheduled for deletion$/m);
    expect(text).toContain(`${DEMO.leadOpenCallIds[0]} [Calls] Subject: Pricing discussion`);

    // The second call costs the list requests only: all metadata is cached.
    h.crm.resetStats();
    const again = await overview(h, lead);
    expect(again.structuredContent).toEqual(result.structuredContent);
    expect(requestsOf(h).all).toHaveLength(visible.length);
  });

  it("respects per_list and says N+ when a list is longer than one page", async () => {
    const one = await overview(h, { ...lead, per_list: 1 });
    expect(h.text(one).split("\n")[0]).toBe(`Leads ${DEMO.leadId}: 7 of 8 lists read, up to 1 row each.`);
    const two = listsOf(await overview(h, { ...lead, per_list: 2 }));
    expect(two.get("Notes")).toMatchObject({ count: 7, more_records: false });
    expect(two.get("Notes")?.records).toHaveLength(2);
    expect(two.get("Activities_Chronological_View")?.records).toHaveLength(2);

    const all = listsOf(await overview(h, { ...lead, per_list: 20 }));
    expect(all.get("Notes")?.records).toHaveLength(7);

    const big = await overview(h, { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_lists: ["Notes"] });
    expect(listsOf(big).get("Notes")).toMatchObject({ count: 200, more_records: true });
    expect(listsOf(big).get("Notes")?.records).toHaveLength(5);
    expect(h.text(big)).toContain("Notes: 200+, first 5");
  });

  it("reports lists the user may not read in one line each while the rest succeeds", async () => {
    h.crm.resetStats();
    const result = await overview(h, account);
    expect(result.isError).toBeFalsy();
    const lists = listsOf(result);
    expect(lists.get("Contacts")).toMatchObject({ status: "ok", count: DEMO.accountContactCount });
    expect(lists.get("Deals")).toMatchObject({ status: "ok", count: DEMO.accountDealCount });
    expect(lists.get("Notes")).toMatchObject({ status: "ok", count: DEMO.accountNoteCount });
    expect(lists.get("Cases")).toMatchObject({ status: "not_readable", error: expect.stringMatching(/^OAUTH_SCOPE_MISMATCH: /) });
    expect(lists.get("Invoices")).toMatchObject({ status: "not_readable", error: expect.stringMatching(/^NO_PERMISSION: /) });
    expect(lists.get("Quotes")).toMatchObject({ status: "not_readable", error: expect.stringMatching(/^AUTHORIZATION_FAILED: /) });
    expect(lists.get("Social")).toMatchObject({ status: "user_hidden" });
    // The hidden list costs no request.
    expect(requestsOf(h).lists.some((r) => r.path.endsWith("/Social"))).toBe(false);

    const text = h.text(result);
    expect(text).toMatch(/^Cases: not readable, OAUTH_SCOPE_MISMATCH: .*ZohoCRM\.modules\.cases\.READ.*$/m);
    expect(text).toMatch(/^Invoices: not readable, NO_PERMISSION: .*$/m);
    expect(text).toMatch(/^Quotes: not readable, AUTHORIZATION_FAILED: .*$/m);
    expect(text).toMatch(/^Social: skipped, user hidden$/m);
    expect(text).toContain("Contacts: 12, first 5");
  });

  it("reads only the named related_lists and refuses unknown names before any list request", async () => {
    h.crm.resetStats();
    const result = await overview(h, { ...account, related_lists: ["Deals", "Notes"], per_list: 1 });
    expect([...listsOf(result).keys()].sort()).toEqual(["Deals", "Notes"]);
    expect(requestsOf(h).lists).toHaveLength(2);

    h.crm.resetStats();
    const unknown = await overview(h, { ...account, related_lists: ["Deals", "Widgets"] });
    expect(unknown.isError).toBe(true);
    expect(h.text(unknown)).toMatch(/related_lists: Widgets is not a related list of Accounts\. Its lists: Contacts, Deals/);
    expect(requestsOf(h).lists).toHaveLength(0);
  });

  it("refuses bad input naming the field, before any request", async () => {
    h.crm.resetStats();
    for (const [args, field] of [
      [{ ...lead, per_list: 0 }, "per_list"],
      [{ ...lead, per_list: 21 }, "per_list"],
      [{ ...lead, related_lists: ["Notes/../x"] }, "related_lists"],
      [{ ...lead, record_id: "12ab" }, "record_id"],
      [{ record_id: DEMO.leadId }, "module_api_name"],
    ] as const) {
      const result = await overview(h, args);
      expect(result.isError).toBe(true);
      expect(h.text(result)).toContain(field);
    }
    expect(h.crm.stats.crmRequests).toBe(0);
  });

  it("reports a list that failed for another reason as failed while the rest succeeds", async () => {
    await overview(h, { ...account, related_lists: ["Deals", "Notes"] }); // metadata cached
    h.crm.faults.malformed = 1; // exactly one of the two list requests gets a broken body
    const result = await overview(h, { ...account, related_lists: ["Deals", "Notes"] });
    expect(result.isError).toBeFalsy();
    const lists = [...listsOf(result).values()];
    expect(lists.map((l) => l.status).sort()).toEqual(["failed", "ok"]);
    expect(lists.find((l) => l.status === "failed")?.error).toMatch(/^INVALID_RESPONSE: /);
    expect(h.text(result)).toMatch(/^(Deals|Notes): failed, INVALID_RESPONSE: .*$/m);
  });

  it("fails the whole call when the record does not exist (every list says INVALID_DATA)", async () => {
    const result = await overview(h, { module_api_name: "Leads", record_id: "4876876000000999999" });
    expect(result.isError).toBe(true);
    expect(h.text(result)).toContain("Zoho error INVALID_DATA (HTTP 400): record 4876876000000999999 is not in Leads");
  });
});

describe("default fields", () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it("come from the related list's fields, else the target module's field metadata, else the well-known table", async () => {
    h = await startHarness();
    const leadLists = listsOf(await overview(h, lead));
    expect(leadLists.get("Notes")).toMatchObject({ fields_source: "field metadata", fields: ["Note_Title", "Note_Content", "Owner", "Created_Time", "Modified_Time"] });
    // Product_Code and Unit_Price are well-known but the demo's Products module has no such fields.
    expect(leadLists.get("Products")).toMatchObject({ fields_source: "field metadata", fields: ["Product_Name", "Owner", "Created_Time", "Modified_Time"] });
    // Zoho serves no field metadata for Attachments: the table answers.
    expect(leadLists.get("Attachments")).toMatchObject({ fields_source: "well-known", fields: ["File_Name", "Size", "Owner", "Created_Time"] });
    expect(leadLists.get("Activities_Chronological_View")?.fields_source).toBe("well-known");
    const notesRequest = requestsOf(h).lists.find((r) => r.path.endsWith("/Notes"));
    expect(notesRequest?.query.fields).toBe("Note_Title,Note_Content,Owner,Created_Time,Modified_Time");

    // A related list that names its columns in the metadata gets exactly those.
    const deal = listsOf(await overview(h, { module_api_name: "Deals", record_id: DEMO.dealId, related_lists: ["Contact_Roles"] }));
    expect(deal.get("Contact_Roles")).toMatchObject({ fields_source: "related list", fields: ["Full_Name", "Email", "Phone"] });

    // A target module whose Modules API entry names its related-list columns gets those.
    const account = listsOf(await overview(h, { module_api_name: "Accounts", record_id: DEMO.accountId, related_lists: ["Contacts", "Deals"] }));
    expect(account.get("Contacts")).toMatchObject({ fields_source: "module metadata", fields: ["Full_Name", "Title", "Email", "Phone"] });
    expect(account.get("Deals")).toMatchObject({ fields_source: "module metadata", fields: ["Deal_Name", "Stage", "Amount", "Closing_Date", "Contact_Name"] });

    // get_related_records uses the same defaults, from the same cache.
    h.crm.resetStats();
    const notes = await h.call("get_related_records", { ...lead, related_list_api_name: "Notes" });
    expect((notes.structuredContent as { fields: string[] }).fields).toEqual(["Note_Title", "Note_Content", "Owner", "Created_Time", "Modified_Time"]);
    expect(requestsOf(h).all).toHaveLength(1);
  });

  it("metadata is fetched once per module, also for concurrent calls", async () => {
    h = await startHarness();
    await Promise.all([overview(h, lead), overview(h, lead), h.call("get_related_records", { ...lead, related_list_api_name: "Notes" })]);
    await overview(h, account);
    await h.call("list_related_lists", { module_api_name: "Accounts" });
    const { metadata } = requestsOf(h);
    const counts = (kind: "related_lists" | "fields") =>
      metadata(kind).reduce<Record<string, number>>((n, r) => ({ ...n, [r.query.module ?? ""]: (n[r.query.module ?? ""] ?? 0) + 1 }), {});
    expect(counts("related_lists")).toEqual({ Leads: 1, Accounts: 1 });
    for (const [module, n] of Object.entries(counts("fields"))) expect([module, n]).toEqual([module, 1]);
    expect(h.deps.catalog.requests).toBe(2);
  });

  it("keep working when the field metadata scope is missing", async () => {
    h = await startHarness({ crm: { withoutScopes: ["ZohoCRM.settings.fields.READ"] } });
    const result = await overview(h, lead);
    expect(result.isError).toBeFalsy();
    const lists = listsOf(result);
    expect(lists.get("Notes")).toMatchObject({ status: "ok", count: 7, fields_source: "well-known", fields: ["Note_Title", "Note_Content", "Owner", "Created_Time"] });
    expect(requestsOf(h).metadata("fields").every((r) => r.status === 401)).toBe(true);
    // The refusal is remembered for a while: the next call does not ask again.
    h.crm.resetStats();
    await overview(h, lead);
    expect(requestsOf(h).metadata("fields")).toHaveLength(0);
  });

  it("without the related-list metadata scope, a named subset is still read", async () => {
    h = await startHarness({ crm: { withoutScopes: ["ZohoCRM.settings.related_lists.READ"] } });
    const all = await overview(h, lead);
    expect(all.isError).toBe(true);
    expect(h.text(all)).toContain("OAUTH_SCOPE_MISMATCH");
    const catalog = await h.call("list_related_lists", { module_api_name: "Leads" });
    expect(catalog.isError).toBe(true);
    expect(h.text(catalog)).toContain("The OAuth client lacks ZohoCRM.settings.related_lists.READ: grant it");

    const named = await overview(h, { ...lead, related_lists: ["Notes", "Activities_Chronological_View"] });
    expect(named.isError).toBeFalsy();
    const lists = listsOf(named);
    expect(lists.get("Notes")).toMatchObject({ status: "ok", count: 7, fields_source: "field metadata" });
    expect(lists.get("Activities_Chronological_View")).toMatchObject({ status: "ok", count: 4 });
    expect(links(named)).toContain(`zohocrm://records/Notes/${DEMO.leadNoteIds[6]}`);
  });
});

describe("default fields without the Modules API scope", () => {
  it("fall back to the field metadata, and the refusal is remembered", async () => {
    const h = await startHarness({ crm: { withoutScopes: ["ZohoCRM.settings.modules.READ"] } });
    try {
      const account = { module_api_name: "Accounts", record_id: DEMO.accountId };
      const contacts = await h.call("get_related_records", { ...account, related_list_api_name: "Contacts" });
      expect(contacts.isError).toBeFalsy();
      expect((contacts.structuredContent as { fields: string[] }).fields).toEqual(["Full_Name", "Email", "Phone", "Title", "Owner", "Created_Time", "Modified_Time"]);
      h.crm.resetStats();
      await h.call("get_related_records", { ...account, related_list_api_name: "Contacts" });
      expect(h.crm.stats.requests.filter((r) => r.path.includes("/settings/"))).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

describe("metadata expiry", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("related lists are asked again after 10 minutes, a refused field metadata after a minute", async () => {
    const h = await startHarness({ crm: { withoutScopes: ["ZohoCRM.settings.fields.READ"] } });
    try {
      // Only Date is faked: the clock the caches read, not the timers HTTP needs.
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      await h.call("get_related_records", { ...lead, related_list_api_name: "Notes" });
      const asked = () => ({ lists: requestsOf(h).metadata("related_lists").length, fields: requestsOf(h).metadata("fields").length });
      expect(asked()).toEqual({ lists: 1, fields: 1 });
      vi.setSystemTime(Date.now() + 59_000);
      await h.call("get_related_records", { ...lead, related_list_api_name: "Notes" });
      expect(asked()).toEqual({ lists: 1, fields: 1 });
      vi.setSystemTime(Date.now() + 2_000);
      await h.call("get_related_records", { ...lead, related_list_api_name: "Notes" });
      expect(asked()).toEqual({ lists: 1, fields: 2 });
      vi.setSystemTime(Date.now() + 10 * 60_000);
      await h.call("get_related_records", { ...lead, related_list_api_name: "Notes" });
      expect(asked()).toEqual({ lists: 2, fields: 3 });
    } finally {
      vi.useRealTimers();
      await h.close();
    }
  });
});

describe("list_related_lists, prompt and completions", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("list_related_lists marks hidden and scheduled-for-deletion lists; a second call costs no request", async () => {
    const first = await h.call("list_related_lists", { module_api_name: "Accounts" });
    expect(h.crm.stats.crmRequests).toBe(1);
    const second = await h.call("list_related_lists", { module_api_name: "Accounts" });
    expect(h.crm.stats.crmRequests).toBe(1);
    expect(second.structuredContent).toEqual(first.structuredContent);
    expect(h.text(first)).toMatch(/^Social → no module \[hidden: not readable\]$/m);
    const leads = await h.call("list_related_lists", { module_api_name: "Leads" });
    expect(h.text(leads)).toMatch(/^Visits_Zoho_Livedesk "Visits" → no module \[scheduled for deletion: not readable\]$/m);
    const statuses = (leads.structuredContent as { related_lists: Array<{ api_name: string; status: string }> }).related_lists;
    expect(statuses.find((l) => l.api_name === "Visits_Zoho_Livedesk")?.status).toBe("scheduled_for_deletion");
  });

  it("lists and renders the whats_related prompt", async () => {
    const { prompts } = await h.client.listPrompts();
    const prompt = prompts.find((p) => p.name === "whats_related");
    expect(prompt?.arguments?.map((a) => [a.name, a.required])).toEqual([["record", true], ["module_api_name", false]]);

    const render = async (args: Record<string, string>) =>
      (await h.client.getPrompt({ name: "whats_related", arguments: args })).messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
    const byId = await render({ record: DEMO.leadId, module_api_name: "Leads" });
    expect(byId).toContain(`get_related_overview with module_api_name "Leads" and record_id "${DEMO.leadId}"`);
    expect(byId).not.toContain("search_records");
    expect(byId).toContain("get_related_records");
    expect(byId).toContain("get_open_activities");
    expect(byId).toContain("get_record");
    // Anything but an id or a web address is searched first.
    expect(await render({ record: "Brian Dylan" })).toMatch(/^1\. Call search_records with word "Brian Dylan" \(no module_api_name/m);
    expect(await render({ record: DEMO.leadEmail })).toMatch(/^1\. Call search_records with email /m);
    expect(await render({ record: DEMO.leadPhone })).toMatch(/^1\. Call search_records with phone /m);
    const address = `https://crm.zoho.com/crm/${DEMO.orgDomain}/tab/Potentials/${DEMO.dealId}`;
    expect(await render({ record: address })).toContain(`get_related_overview with record_id "${address}"`);

    await expect(h.client.getPrompt({ name: "whats_related", arguments: { record: "Brian", module_api_name: "Le ads" } })).rejects.toThrow(/module_api_name/);
  });

  it("completes module names in the prompt and in the record resource template", async () => {
    expect(h.client.getServerCapabilities()?.completions).toBeDefined();
    const prompt = await h.client.complete({ ref: { type: "ref/prompt", name: "whats_related" }, argument: { name: "module_api_name", value: "le" } });
    expect(prompt.completion.values).toEqual(["Leads"]);
    const resource = await h.client.complete({
      ref: { type: "ref/resource", uri: "zohocrm://records/{module_api_name}/{record_id}" },
      argument: { name: "module_api_name", value: "Ac" },
    });
    expect(resource.completion.values).toEqual(["Accounts"]);
    const all = await h.client.complete({ ref: { type: "ref/prompt", name: "whats_related" }, argument: { name: "module_api_name", value: "" } });
    expect(all.completion.values).toEqual(expect.arrayContaining(["Leads", "Accounts", "Contacts", "Deals"]));
    // The org's own modules, custom ones included, from the Modules API (cached).
    const custom = await h.client.complete({ ref: { type: "ref/prompt", name: "whats_related" }, argument: { name: "module_api_name", value: "sh" } });
    expect(custom.completion.values).toEqual(["Shipments"]);
  });

  it("without the Modules API scope, completes the standard module names", async () => {
    const bare = await startHarness({ crm: { withoutScopes: ["ZohoCRM.settings.modules.READ"] } });
    try {
      const custom = await bare.client.complete({ ref: { type: "ref/prompt", name: "whats_related" }, argument: { name: "module_api_name", value: "s" } });
      expect(custom.completion.values).toEqual(["Solutions", "Sales_Orders", "Services__s"]);
    } finally {
      await bare.close();
    }
  });

  it("keeps tools/list compact: short descriptions, overview schema small", async () => {
    const listed = await h.client.listTools();
    for (const tool of listed.tools) expect(tool.description?.length ?? 0, tool.name).toBeLessThanOrEqual(160);
    const overviewTool = listed.tools.find((t) => t.name === "get_related_overview");
    expect(overviewTool).toBeDefined();
    expect(JSON.stringify(overviewTool).length).toBeLessThan(2100);
  });
});
