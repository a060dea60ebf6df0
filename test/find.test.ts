// Issue 15: find a record from what a person says (search_records), name it by its web address,
// and read it in any client (get_record). Over the demo CRM on 127.0.0.1, through the SDK client.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Row = { id: string; $module: string; $web_url?: string; Full_Name?: string };
const rows = (r: CallToolResult) => (r.structuredContent as { records: Row[] }).records;
const links = (r: CallToolResult) => r.content.filter((c) => c.type === "resource_link").map((c) => (c as { uri: string }).uri);

describe("search_records", () => {
  it("a name with no module finds the demo lead and the contact converted from it, each with its module, link and web address", async () => {
    const result = await h.call("search_records", { word: "Brian Dylan" });
    expect(result.isError).toBeFalsy();
    const found = rows(result).map((r) => [r.$module, r.id]);
    expect(found).toEqual([["Leads", DEMO.leadId], ["Contacts", DEMO.leadContactId]]);
    expect(links(result)).toEqual([`zohocrm://records/Leads/${DEMO.leadId}`, `zohocrm://records/Contacts/${DEMO.leadContactId}`]);
    expect(rows(result)[0]!.$web_url).toBe(`https://crm.zoho.com/crm/${DEMO.orgDomain}/tab/Leads/${DEMO.leadId}`);
    const text = h.text(result);
    expect(text).toContain("Leads: 1 (id | Full_Name | Email | Phone | Company | Owner); open in Zoho: https://crm.zoho.com/crm/demo-zylker/tab/Leads/{id}");
    expect(text).toMatch(/\| \[converted\]/);
    expect(text).toMatch(/^Next: get_related_overview/m);
    console.log(text);
  });
});
