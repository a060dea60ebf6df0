// What a new user hits first, against the demo CRM over HTTP: field names the module does not have
// (issue #18 item 12), and a record id given with the wrong module (item 13).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("field names the module does not have", () => {
  it("are named, with the closest real ones, beside the rows Zoho sent without them", async () => {
    const r = await h.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes", fields: ["Note_Title", "Nonexistent_Field", "note_content"] });
    expect(r.isError, h.text(r)).toBeFalsy();
    expect((r.structuredContent as { count: number }).count).toBe(7);
    const line = h.text(r).split("\n").find((l) => l.startsWith("Not fields of Notes"));
    expect(line).toBe("Not fields of Notes, so Zoho left them out of every row: Nonexistent_Field (its fields: Note_Title, Note_Content, Parent_Id, Owner, Created_By, Modified_By, Created_Time, Modified_Time); note_content (closest: Note_Content).");
  });

  it("say nothing when every name is real (one cached metadata read at most)", async () => {
    const r = await h.call("get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Contacts", fields: ["Full_Name", "Email"] });
    expect(h.text(r)).not.toMatch(/^Not (a field|fields) of/m);
  });

  it("in the activity views, a name any of Calls, Tasks or Events has is real", async () => {
    const r = await h.call("get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId, fields: ["Event_Title", "Subjcet"] });
    expect(h.text(r)).toMatch(/^Not a field of Calls, Tasks, Events, so Zoho left it out of every row: Subjcet \(closest: Subject/m);
  });
});

describe("a record id given with the wrong module", () => {
  it("the overview says the record is not in that module, as an error, not 'every list INVALID_DATA'", async () => {
    const r = await h.call("get_related_overview", { module_api_name: "Accounts", record_id: DEMO.leadId });
    expect(r.isError).toBe(true);
    expect(h.text(r).split("\n")[0]).toBe(`Zoho error INVALID_DATA (HTTP 400): record ${DEMO.leadId} is not in Accounts: Zoho's Get Record finds no such Accounts record`);
    expect(h.text(r)).toMatch(/What to do: Check module_api_name and record_id: the id may belong to another module's record/);
  });

  it("so does get_related_records", async () => {
    const r = await h.call("get_related_records", { module_api_name: "Accounts", record_id: DEMO.leadId, related_list_api_name: "Contacts" });
    expect(r.isError).toBe(true);
    expect(h.text(r).split("\n")[0]).toBe(`Zoho error INVALID_DATA (HTTP 400): record ${DEMO.leadId} is not in Accounts: Zoho's Get Record finds no such Accounts record`);
  });

  it("a record that is there but whose lists are not readable is still the overview's normal answer", async () => {
    const r = await h.call("get_related_overview", { module_api_name: "Accounts", record_id: DEMO.accountId, related_lists: ["Invoices", "Quotes"] });
    expect(r.isError).toBeFalsy();
    expect(h.text(r)).toMatch(/0 of 2 lists read/);
  });
});
