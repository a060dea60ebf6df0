// Emails, Attachments and lists without a Get Record endpoint, against the demo CRM over HTTP:
// the answer shapes of Zoho's Emails API, sub-record links under the parent, the file itself.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEMO, DEMO_USERS } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

const lead = { module_api_name: "Leads", record_id: DEMO.leadId };
const deal = { module_api_name: "Deals", record_id: DEMO.dealId };
const uris = (r: { content: Array<{ type: string }> }) => r.content.filter((c) => c.type === "resource_link").map((c) => (c as unknown as { uri: string }).uri);

describe("Emails, Attachments, lists without records of their own", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  test("the Emails list reads Zoho's Emails answer: records under Emails, each identified by message_id", async () => {
    h.crm.resetStats();
    const r = await h.call("get_related_records", { ...lead, related_list_api_name: "Emails" });
    expect(r.isError, h.text(r)).toBeFalsy();
    const s = r.structuredContent as { records: Array<Record<string, unknown>>; count: number; more_records: boolean; next_page_token: string | null };
    expect(s.count).toBe(3);
    expect(s.records.map((e) => e.id)).toEqual([...DEMO.leadEmailIds]);
    expect(s.records.map((e) => e.message_id)).toEqual([...DEMO.leadEmailIds]);
    expect(s.more_records).toBe(false);
    const lines = h.text(r).split("\n");
    expect(lines[0]).toBe(`Emails of Leads ${DEMO.leadId}: 3 records. Columns: id | subject | from | sent_time | status`);
    // The 64-character message_id is cut in the row; the whole id is in structuredContent and the link.
    expect(lines[1]).toBe(`${DEMO.leadEmailIds[0].slice(0, 12)}… | Re: Pricing call next week | brian.dylan@zylker-logistics.com | 2026-03-14T10:18:02+05:30 | received`);
    // Each link carries the email's owner: View Email needs it for a colleague's email.
    expect(uris(r)).toEqual(DEMO.leadEmailIds.map((id) => `zohocrm://records/Leads/${DEMO.leadId}/Emails/${id}?user_id=${DEMO.userId}`));
    // Zoho's Emails API takes no fields, page or per_page: none is sent.
    const sent = h.crm.stats.requests.filter((q) => q.path.endsWith("/Emails"));
    expect(sent.map((q) => q.query)).toEqual([{}]);
  });

  test("an email of a colleague's mailbox: its link carries the owner, and View Email is sent user_id, as Zoho requires", async () => {
    const contact = { module_api_name: "Contacts", record_id: DEMO.contactId };
    const r = await h.call("get_related_records", { ...contact, related_list_api_name: "Emails" });
    expect(r.isError, h.text(r)).toBeFalsy();
    const ravisEmail = `zohocrm://records/Contacts/${DEMO.contactId}/Emails/${DEMO.contactEmailIds[0]}?user_id=${DEMO_USERS.ravi.id}`;
    expect(uris(r)).toEqual([ravisEmail, `zohocrm://records/Contacts/${DEMO.contactId}/Emails/${DEMO.contactEmailIds[1]}?user_id=${DEMO.userId}`]);
    h.crm.resetStats();
    const read = await h.client.readResource({ uri: ravisEmail });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ message_id: DEMO.contactEmailIds[0], subject: "Sensor pilot: the three sites", owner: { id: DEMO_USERS.ravi.id } });
    expect(h.crm.stats.requests.map((q) => q.query)).toEqual([{ user_id: DEMO_USERS.ravi.id }]);
    // Without the owner, Patricia's token finds no such email in her own mailbox (the demo CRM, like Zoho, needs user_id).
    await expect(h.client.readResource({ uri: ravisEmail.replace(/\?.*$/, "") })).rejects.toThrow(/INVALID_DATA.*the message id given seems to be invalid/s);
    await expect(h.client.readResource({ uri: `${ravisEmail.replace(/\?.*$/, "")}?user_id=x1` })).rejects.toThrow(/user_id must be a Zoho user id: digits only/);
  });

  test("the Emails list's own filters: type and owner_id reach Zoho, and only the Emails list takes them", async () => {
    const contact = { module_api_name: "Contacts", record_id: DEMO.contactId, related_list_api_name: "Emails" };
    const crm = await h.call("get_related_records", { ...contact, type: "sent_from_crm" });
    expect((crm.structuredContent as { records: Array<{ id: string }> }).records.map((e) => e.id)).toEqual([DEMO.contactEmailIds[1]]);
    h.crm.resetStats();
    const ravis = await h.call("get_related_records", { ...contact, type: "user_emails", owner_id: DEMO_USERS.ravi.id });
    expect((ravis.structuredContent as { records: Array<{ id: string }> }).records.map((e) => e.id)).toEqual([DEMO.contactEmailIds[0]]);
    expect(h.crm.stats.requests.map((q) => q.query)).toEqual([{ type: "user_emails", owner_id: DEMO_USERS.ravi.id }]);
    // Refused before any request, naming the field.
    h.crm.resetStats();
    const refusals = await Promise.all([
      h.call("get_related_records", { ...contact, owner_id: DEMO_USERS.ravi.id }),
      h.call("get_related_records", { ...contact, type: "all_contacts_sent_crm_emails" }),
      h.call("get_related_records", { ...contact, related_list_api_name: "Notes", type: "sent_from_crm" }),
      h.call("get_related_records", { ...contact, type: "outbox" }),
    ]);
    expect(refusals.map((x) => x.isError)).toEqual([true, true, true, true]);
    expect(h.text(refusals[0]!)).toMatch(/owner_id: Zoho takes it only with type "user_emails"/);
    expect(h.text(refusals[1]!)).toMatch(/type: all_contacts_sent_crm_emails reads the emails of an account's contacts, so it is for Accounts only, not Contacts/);
    expect(h.text(refusals[2]!)).toMatch(/type: only the Emails list takes this filter/);
    expect(h.text(refusals[3]!)).toMatch(/type/);
    expect(h.crm.stats.requests.filter((q) => q.path.includes("/Emails") || q.path.endsWith("/Notes"))).toEqual([]);
  });

  test("an email link reads the email itself, content included", async () => {
    const read = await h.client.readResource({ uri: `zohocrm://records/Leads/${DEMO.leadId}/Emails/${DEMO.leadEmailIds[1]}` });
    const content = read.contents[0] as { mimeType: string; text: string };
    expect(content.mimeType).toBe("application/json");
    const email = JSON.parse(content.text) as Record<string, unknown>;
    expect(email).toMatchObject({ message_id: DEMO.leadEmailIds[1], subject: "SOC 2 report and integration guide" });
    expect(email.content).toBe("<div>Hi Brian,<br>As promised, our SOC 2 Type II report and the integration guide are attached.<br>Patricia</div>");
  });

  test("parameters the Emails API does not take are refused before any request, naming them", async () => {
    h.crm.resetStats();
    const r = await h.call("get_related_records", { ...lead, related_list_api_name: "Emails", sort_by: "Created_Time", per_page: 5 });
    expect(h.text(r)).toBe(
      "Invalid input: per_page, sort_by: the Emails list does not take these parameters (Zoho's Get Emails API pages ten emails at a time by index; pass the previous result's next_page_token as page_token)",
    );
    expect(h.crm.stats.crmRequests).toBe(0);
  });

  test("an attachment link is the file itself: a blob with Zoho's content type", async () => {
    const list = await h.call("get_related_records", { ...deal, related_list_api_name: "Attachments" });
    expect(uris(list)).toEqual([...DEMO.dealAttachmentIds].reverse().map((id) => `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${id}`));
    const pdf = (await h.client.readResource({ uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[0]}` })).contents[0] as { mimeType: string; blob: string };
    expect(pdf.mimeType).toBe("application/pdf");
    const bytes = Buffer.from(pdf.blob, "base64");
    expect(bytes.subarray(0, 8).toString("latin1")).toBe("%PDF-1.4");
    expect(bytes.subarray(-6).toString("latin1")).toBe("%%EOF\n");
    const csv = (await h.client.readResource({ uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[1]}` })).contents[0] as { mimeType: string; blob: string };
    expect(csv.mimeType).toBe("text/csv");
    expect(Buffer.from(csv.blob, "base64").toString("utf8")).toBe("tier,vehicles,price_per_vehicle_usd\nStarter,1-50,18\nGrowth,51-500,15\nFleet,501+,12\n");
  });

  test("a sub-record link of another list, or a bad id, is refused naming the part", async () => {
    await expect(h.client.readResource({ uri: `zohocrm://records/Deals/${DEMO.dealId}/Notes/1` })).rejects.toThrow(/Notes\/1: related_list_api_name must be Attachments or Emails \(records Zoho serves only under their parent\)/);
    await expect(h.client.readResource({ uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/x1` })).rejects.toThrow(/Attachments\/x1: related_record_id must be an attachment id: digits only/);
  });

  test("a list with no module of its own (Stage_History) gets no links, and the text says why once", async () => {
    const r = await h.call("get_related_records", { ...deal, related_list_api_name: "Stage_History", fields: ["Stage", "Probability"] });
    expect(r.isError, h.text(r)).toBeFalsy();
    expect((r.structuredContent as { count: number }).count).toBe(3);
    expect(uris(r)).toEqual([]);
    const why = "Stage_History records have no links: Zoho has no Get Record endpoint for them (the list has no module of its own).";
    expect(h.text(r).split("\n").filter((l) => l.includes(why))).toEqual([why]);
  });

  test("Stage_History without fields shows the stages: the stage, where it moved to, how many days, when and by whom", async () => {
    const r = await h.call("get_related_records", { ...deal, related_list_api_name: "Stage_History" });
    expect(r.isError, h.text(r)).toBeFalsy();
    expect((r.structuredContent as { fields: string[] }).fields).toEqual(["Stage", "Moved_To__s", "Stage_Duration_Calendar_Days", "Modified_Time", "Modified_By"]);
    const lines = h.text(r).split("\n");
    expect(lines[0]).toBe(`Stage_History of Deals ${DEMO.dealId}: 3 records. Columns: id | Stage | Moved_To__s | Stage_Duration_Calendar_Days | Modified_Time | Modified_By`);
    expect(lines.slice(1, 4).map((l) => l.split(" | ").slice(1, 4).join(" | "))).toEqual(["Negotiation/Review |  | ", "Needs Analysis | Negotiation/Review | 14", "Qualification | Needs Analysis | 14"]);
  });
});

describe("attachment size cap", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_ATTACHMENT_BYTES: "100" } });
  });
  afterAll(() => h.close());

  test("above ZOHO_MAX_ATTACHMENT_BYTES: a clear error naming the size and the cap", async () => {
    const uri = `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[0]}`;
    const error = await h.client.readResource({ uri }).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/Zoho error FILE_TOO_LARGE \(HTTP 200\): the file is \d+ bytes, above the 100-byte cap \(ZOHO_MAX_ATTACHMENT_BYTES\)/);
    const size = Number(/the file is (\d+) bytes/.exec(error!.message)?.[1]);
    expect(size).toBeGreaterThan(100);
    // The CSV (83 bytes) is under the cap.
    const csv = (await h.client.readResource({ uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[1]}` })).contents[0] as { blob: string };
    expect(Buffer.from(csv.blob, "base64")).toHaveLength(83);
  });
});

describe("the overview links like the tools do, and shares ZOHO_MAX_RECORDS with Emails too", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_RECORDS: "40" } });
  });
  afterAll(() => h.close());

  test("a deal's overview: attachment links under the deal, no Stage_History links and why, once", async () => {
    const r = await h.call("get_related_overview", { ...deal, related_lists: ["Attachments", "Stage_History"] });
    expect(r.isError, h.text(r)).toBeFalsy();
    expect(uris(r)).toEqual([...DEMO.dealAttachmentIds].reverse().map((id) => `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${id}`));
    const why = "Stage_History records have no links: Zoho has no Get Record endpoint for them (the list has no module of its own).";
    expect(h.text(r).split("\n").filter((l) => l === why)).toHaveLength(1);
  });

  test("Emails answer ten per call whatever is asked: with a share below ten the overview skips them and says why", async () => {
    h.crm.resetStats();
    // The demo lead has 7 lists read (one is scheduled for deletion): floor(40 / 7) = 5 records each.
    const r = await h.call("get_related_overview", lead);
    const emails = (r.structuredContent as { related_lists: Array<{ api_name: string; status: string; error?: string }> }).related_lists.find((l) => l.api_name === "Emails");
    expect(emails).toMatchObject({ status: "over_limit", error: "ZOHO_MAX_RECORDS (40) is spent by the other lists" });
    expect(h.text(r)).toContain("Emails: skipped, ZOHO_MAX_RECORDS (40) is spent by the other lists");
    const asked = h.crm.stats.requests.filter((q) => !q.path.includes("/settings/"));
    expect(asked.some((q) => q.path.endsWith("/Emails"))).toBe(false);
    expect(asked.map((q) => Number(q.query.per_page)).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(40);
  });
});

describe("Emails page by index, ten at a time", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  const mass = { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_list_api_name: "Emails" };
  const ids = (r: { structuredContent?: unknown }) => (r.structuredContent as { records: Array<{ id: string }> }).records.map((e) => e.id);

  test("a walk follows next_index: 25 emails in three calls (index 1, 11, 21)", async () => {
    h.crm.resetStats();
    const all = await h.call("get_related_records", { ...mass, max_records: 100 });
    expect(ids(all)).toHaveLength(25);
    expect(new Set(ids(all)).size).toBe(25);
    expect(h.crm.stats.requests.filter((q) => q.path.endsWith("/Emails")).map((q) => q.query.index)).toEqual([undefined, "11", "21"]);
    expect(all.structuredContent).toMatchObject({ more_records: false, next_page_token: null });
  });

  test("one page at a time: next_page_token carries Zoho's next_index, sent back as index", async () => {
    const first = await h.call("get_related_records", { ...mass, max_records: 10 });
    expect(first.structuredContent).toMatchObject({ count: 10, more_records: true, next_page_token: "11", previous_page_token: null, page_token_expiry: null });
    expect(h.text(first)).toContain('continue with page_token="11".');
    h.crm.resetStats();
    const second = await h.call("get_related_records", { ...mass, page_token: "11" });
    expect(h.crm.stats.requests.filter((q) => q.path.endsWith("/Emails")).map((q) => q.query)).toEqual([{ index: "11" }]);
    expect(second.structuredContent).toMatchObject({ count: 10, next_page_token: "21", previous_page_token: "1" });
    const all = ids(await h.call("get_related_records", { ...mass, max_records: 100 }));
    expect([...ids(first), ...ids(second)]).toEqual(all.slice(0, 20));
  });

  test("a walk cut inside a page says how to go on from that page's index", async () => {
    const cut = await h.call("get_related_records", { ...mass, max_records: 15 });
    expect(ids(cut)).toHaveLength(15);
    expect(cut.structuredContent).toMatchObject({ more_records: true, next_page_token: null, resume: { page_token: "11", skip: 5, per_page: 10 } });
    // Zoho's Emails API takes no per_page or sort: the advice names only the index to pass.
    expect(h.text(cut)).toContain('Stopped at max_records (15); more records exist: raise max_records (up to 2000) or continue with page_token="11", skipping its first 5 records (the last ones of this answer).');
  });
});
