// Issue 15: find a record from what a person says (search_records), name it by its web address,
// and read it in any client (get_record). Over the demo CRM on 127.0.0.1, through the SDK client.
import { readFileSync } from "node:fs";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { prepareCriteria } from "../src/zoho/search.js";
import { connectSignedIn, startSignInServer, TestOAuthProvider } from "./oauth-helpers.js";
import { startHarness, type Harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Row = { id: string; $module: string; $web_url?: string; Full_Name?: string };
const rows = (r: CallToolResult) => (r.structuredContent as { records: Row[] }).records;
const found = (r: CallToolResult) => rows(r).map((row) => [row.$module, row.id]);
const links = (r: CallToolResult) => r.content.filter((c) => c.type === "resource_link").map((c) => (c as { uri: string }).uri);
const brian = [["Leads", DEMO.leadId], ["Contacts", DEMO.leadContactId]];
const web = (module: string, id: string, host = "crm.zoho.com") => `https://${host}/crm/${DEMO.orgDomain}/tab/${module}/${id}`;

describe("search_records", () => {
  it("a name with no module finds the demo lead and the contact converted from it, each with its module, link and web address", async () => {
    const result = await h.call("search_records", { word: "Brian Dylan" });
    expect(result.isError, h.text(result)).toBeFalsy();
    expect(found(result)).toEqual(brian);
    expect(links(result)).toEqual([`zohocrm://records/Leads/${DEMO.leadId}`, `zohocrm://records/Contacts/${DEMO.leadContactId}`]);
    expect(rows(result).map((r) => r.$web_url)).toEqual([web("Leads", DEMO.leadId), web("Contacts", DEMO.leadContactId)]);
    const text = h.text(result);
    // The web-address template once per module, rows compact, the next step last.
    expect(text).toContain(`Leads: 1 (id | Full_Name | Email | Phone | Company | Owner); open in Zoho: https://crm.zoho.com/crm/${DEMO.orgDomain}/tab/Leads/{id}`);
    expect(text).toContain(`${DEMO.leadId} | Brian Dylan | ${DEMO.leadEmail} | ${DEMO.leadPhone} | Zylker Logistics | Patricia Boyle | [converted]`);
    expect(text).toContain("Accounts, Deals: no match.");
    expect(text.split("\n").at(-1)).toMatch(/^Next: get_related_overview/);
    // The four modules were asked side by side, converted leads included (Zoho's default leaves them out).
    const searches = h.crm.stats.requests.filter((r) => r.path.endsWith("/search") && r.query.word === "Brian Dylan");
    expect(searches.map((r) => r.path.split("/")[3]).sort()).toEqual(["Accounts", "Contacts", "Deals", "Leads"]);
    expect(searches.find((r) => r.path.includes("/Leads/"))?.query.converted).toBe("both");
  });

  it("the demo lead's conversion made an account from its Company, as Zoho's Convert Lead does: found by name, named by the contact and the lead", async () => {
    const account = await h.call("search_records", { word: "Zylker Logistics", module_api_name: "Accounts" });
    expect(found(account)).toEqual([["Accounts", DEMO.leadAccountId]]);
    expect(rows(account)[0]).toMatchObject({ Account_Name: DEMO.leadAccountName });
    // The contact's Account_Name is a lookup to it, so the search row names the account, not an empty column.
    const contact = (await h.call("get_record", { module_api_name: "Contacts", record_id: DEMO.leadContactId })).structuredContent;
    expect(contact).toMatchObject({ Account_Name: { name: DEMO.leadAccountName, id: DEMO.leadAccountId } });
    expect(h.text(await h.call("search_records", { word: "Brian Dylan", module_api_name: "Contacts" }))).toContain(`${DEMO.leadContactId} | Brian Dylan | ${DEMO.leadEmail} | ${DEMO.leadPhone} | ${DEMO.leadAccountName} | Patricia Boyle`);
    // The lead says what its conversion made: the contact and the account, no deal.
    const lead = (await h.call("get_record", { module_api_name: "Leads", record_id: DEMO.leadId })).structuredContent;
    expect(lead).toMatchObject({ $converted: true, $converted_detail: { contact: { id: DEMO.leadContactId }, account: { name: DEMO.leadAccountName, id: DEMO.leadAccountId }, deal: null } });
    const contacts = await h.call("get_related_records", { module_api_name: "Accounts", record_id: DEMO.leadAccountId, related_list_api_name: "Contacts" });
    expect((contacts.structuredContent as { records: Row[] }).records.map((r) => r.id)).toEqual([DEMO.leadContactId]);
  });

  it("email, phone and criteria searches find exactly their records", async () => {
    expect(found(await h.call("search_records", { email: DEMO.leadEmail }))).toEqual(brian);
    expect(found(await h.call("search_records", { phone: "415-555-0142" }))).toEqual(brian);
    const byCriteria = await h.call("search_records", { criteria: "((Last_Name:equals:Dylan)and(Company:starts_with:Zylker))", module_api_name: "leads" });
    expect(found(byCriteria)).toEqual([["Leads", DEMO.leadId]]);
    expect(found(await h.call("search_records", { criteria: "(Account_Name:equals:Zylker Inc)", module_api_name: "Contacts", max_records: 50 }))).toHaveLength(DEMO.accountContactCount);
    // Another module: its name field from the field metadata, so rows say what they are.
    const deals = await h.call("search_records", { word: "Fleet", module_api_name: "Deal" });
    expect(found(deals)).toEqual([["Deals", DEMO.dealId]]);
    expect(h.text(deals)).toContain(`${DEMO.dealId} | Zylker Inc - Fleet Tracking Rollout`);
    const campaign = await h.call("search_records", { word: "Spring Expo", module_api_name: "Campaigns" });
    expect(h.text(campaign)).toContain(`${DEMO.campaignId} | Spring Expo 2026`);
    expect(rows(campaign)[0]!.$web_url).toBe(web("Campaigns", DEMO.campaignId));
    // Not converted only, when asked: the converted lead drops out.
    expect(found(await h.call("search_records", { word: "Brian", converted: "false" }))).toEqual([["Contacts", DEMO.leadContactId]]);
  });

  it("the result budget applies: rows past ZOHO_RESULT_MAX_CHARS stay in structuredContent, and the text says so", async () => {
    const small = await startHarness({ env: { ZOHO_RESULT_MAX_CHARS: "2000" } });
    try {
      const result = await small.call("search_records", { word: "Zylker" });
      const rendered = result.content.reduce((n, c) => n + (c.type === "text" ? c.text.length : c.type === "resource_link" ? c.uri.length + c.name.length : 0), 0);
      expect(rendered).toBeLessThanOrEqual(2000);
      const printed = links(result).length;
      expect(printed).toBeGreaterThan(0);
      expect(rows(result).length).toBeGreaterThan(printed);
      expect(small.text(result)).toContain(`${rows(result).length - printed} rows not printed (ZOHO_RESULT_MAX_CHARS, 2000 characters); all are in structuredContent.records.`);
    } finally {
      await small.close();
    }
  });

  it("an empty later page claims neither a match nor none: Zoho's 204 is the same for both, page 1 tells", async () => {
    const nothing = "Nothing on page 2 (per_page 5): Zoho answers a page past the last match as it answers no match at all, so page 1 shows whether anything matches.";
    // Past the last match (Brian Dylan is on page 1) and no match at all (nobody) read the same.
    for (const word of ["Brian Dylan", "Nobody Atall"]) {
      const result = await h.call("search_records", { word, module_api_name: "Leads", page: 2, per_page: 5 });
      expect(result.isError, word).toBeFalsy();
      const text = h.text(result);
      expect(text, word).toContain(nothing);
      expect(text, word).not.toMatch(/past the last match \(|No record matches|no match\./);
    }
    // Without a module: the same line once, not a line per module.
    const all = h.text(await h.call("search_records", { word: "Nobody Atall", page: 2, per_page: 5 }));
    expect(all).toContain(nothing);
    expect(all).not.toMatch(/no record on page 2|No record matches/);
    // Page 1 keeps the advice for a search that finds nothing.
    expect(h.text(await h.call("search_records", { word: "Nobody Atall", module_api_name: "Leads", page: 1, per_page: 5 }))).toContain("No record matches: try another spelling");
  });

  it("no match is an answer that says so, not an error", async () => {
    const result = await h.call("search_records", { word: "Nobody Atall" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ records: [], count: 0, more_records: false });
    expect(h.text(result)).toContain("No record matches in these modules");
  });

  it("criteria values with (, ) and , are escaped as Zoho requires; already escaped ones are kept", async () => {
    h.crm.resetStats();
    const result = await h.call("search_records", { criteria: "(Company:equals:Zylker Logistics (US), West)", module_api_name: "Leads" });
    expect(result.isError, h.text(result)).toBeFalsy();
    expect(h.crm.stats.requests.find((r) => r.path.endsWith("/search"))?.query.criteria).toBe("(Company:equals:Zylker Logistics \\(US\\)\\, West)");
    expect(prepareCriteria("(Last_Name:equals:O\\(Brien\\)) or (Email:in:a@x.com,b@x.com)")).toBe("((Last_Name:equals:O\\(Brien\\))or(Email:in:a@x.com,b@x.com))");
    expect(prepareCriteria("Email:equals:brian@x.com")).toBe("(Email:equals:brian@x.com)");
  });

  it("criteria refusals point at the character as written, with the outer parentheses or without", async () => {
    // [criteria, the message's position, the character found there]
    const cases: Array<[string, RegExp, string]> = [
      ["(Email:equals:x))", /a \) without its \( at position 17\b/, ")"],
      ["Email:equals:x))", /a \) without its \( at position 16\b/, ")"],
      // Bare, the first condition's ) is the one without its (: not one past the end of the text.
      ["Email:equals:x)", /a \) without its \( at position 15\b/, ")"],
      ["Email:equals:x)and(Last_Name:equals:y)", /a \) without its \( at position 15\b/, ")"],
      ["(Email:equals:x)and)", /"and" after the condition on Email \(its \) at position 16\)/, ")"],
      ["Email:equals:x)and)", /"and" after the condition on Email \(its \) at position 15\)/, ")"],
      ["((Email:equals:x)) x", /expected a condition \(Field:operator:value\), and or or at position 20\b/, "x"],
      // Two conditions without their parentheses would be one value for Zoho: refused, pointing at the second.
      ["(Last_Name:equals:Dylan and Email:starts_with:x)", /the value of Last_Name holds "and" and a second condition \(Email:starts_with: at position 29\)/, "E"],
      ["Last_Name:equals:Dylan and Email:starts_with:x", /the value of Last_Name holds "and" and a second condition \(Email:starts_with: at position 28\)/, "E"],
    ];
    for (const [criteria, message, char] of cases) {
      let refused = "";
      try {
        prepareCriteria(criteria);
      } catch (error) {
        refused = (error as Error).message;
      }
      expect(refused, criteria).toMatch(message);
      const at = Number(/position (\d+)/.exec(refused)![1]);
      expect(criteria[at - 1], `${criteria}: position ${at}`).toBe(char);
    }
    // A value that only reads "and ..." stays a value.
    expect(prepareCriteria("Account_Name:equals:Smith and Sons")).toBe("(Account_Name:equals:Smith and Sons)");
    // Through the tool, the same position, before any request.
    h.crm.resetStats();
    expect(h.text(await h.call("search_records", { criteria: "Email:equals:x)" }))).toMatch(/a \) without its \( at position 15\b/);
    expect(h.crm.stats.crmRequests).toBe(0);
  });

  it("bad input is refused before any request, naming the fields", async () => {
    h.crm.resetStats();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /exactly one of word, email, phone, criteria \(got none\)/],
      [{ word: "Brian", email: DEMO.leadEmail }, /exactly one of word, email, phone, criteria \(got word and email\)/],
      [{ criteria: "(Last_Name:contains:Dyl)" }, /criteria: Last_Name has the operator contains, which Zoho's search does not take/],
      [{ criteria: Array.from({ length: 11 }, (_, i) => `(Last_Name:equals:n${i})`).join("or") }, /criteria: has more than 10 conditions/],
      [{ criteria: "((Last_Name:equals:Dylan)" }, /criteria: /],
      [{ criteria: "(Last_Name:equals:K\\)" }, /criteria: the value of Last_Name ends in \\\), which escapes the \) meant to close the condition/],
      [{ criteria: "(Last_Name:equals:Dylan) and" }, /criteria: "and" after the condition on Last_Name .* is followed by no \(condition\)/],
      [{ criteria: "((Last_Name:equals:Dylan)or)" }, /criteria: "or" after the condition on Last_Name .* is followed by no \(condition\)/],
      [{ criteria: "(Last_Name:equals:Dylan" }, /criteria: the condition on Last_Name has no closing \)/],
      [{ word: "" }, /word/],
      [{ word: "B" }, /must be 2 to 200 characters at word/],
      [{ word: " x " }, /must be 2 to 200 characters at word/],
      [{ word: "Brian", page: 11, per_page: 200 }, /page × per_page must stay within record 2000/],
    ];
    for (const [args, message] of cases) {
      const result = await h.call("search_records", args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(h.text(result)).toMatch(message);
    }
    expect(h.crm.stats.crmRequests).toBe(0);
  });

  it("the demo CRM answers a one-letter word as Zoho does: INVALID_DATA", async () => {
    const res = await fetch(`${h.crm.url}/crm/v7/Leads/search?word=B`, { headers: { authorization: `Zoho-oauthtoken ${h.crm.issueAccessToken()}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "INVALID_DATA", details: { param_name: "word" } });
  });

  it("pages are fetched only while Zoho says more_records: 307 matches with max_records 2000 take 2 pages, not 10", async () => {
    h.crm.resetStats();
    const criteria = `(Parent_Id:equals:${DEMO.massImportLeadId})and(Note_Title:starts_with:Call recap)`;
    const result = await h.call("search_records", { criteria, module_api_name: "Notes", max_records: 2000, fields: ["Note_Title"] });
    expect(result.isError, h.text(result)).toBeFalsy();
    expect(rows(result)).toHaveLength(307);
    expect((result.structuredContent as { more_records: boolean }).more_records).toBe(false);
    const pages = h.crm.stats.requests.filter((r) => r.path === "/crm/v7/Notes/search").map((r) => Number(r.query.page));
    // Up to ZOHO_CONCURRENCY pages start together (as in a related-list walk); none after the page that said no more.
    expect(pages.length).toBeLessThanOrEqual(4);
    expect(pages.slice(0, 2).sort()).toEqual([1, 2]);
    expect(h.crm.stats.requests.filter((r) => r.path === "/crm/v7/Notes/search" && r.status === 204).length).toBeLessThanOrEqual(2);
  });

  it("the modules share ZOHO_CONCURRENCY (4): four modules read one page at a time each, two modules two pages at once each", async () => {
    const pagesOf = (module: string) => h.crm.stats.requests.filter((r) => r.path === `/crm/v7/${module}/search`);
    // Most in flight at once among these requests (the demo CRM's log of when each started and ended).
    const widest = (requests: Array<{ startedAt: number; endedAt: number }>) => Math.max(...requests.map((a) => requests.filter((b) => b.startedAt <= a.startedAt && a.startedAt < b.endedAt).length));
    await h.call("search_records", { word: "Brian Dylan" }); // token, org and module names cached: only searches below
    h.crm.faults.latencyMs = 100; // every page is in flight long enough for the next ones to start beside it
    try {
      // max_records 500 in each of four modules: three pages of 200 each could be needed, but a
      // module's share of the cap is 4 / 4 = 1, so each asks page 1 alone and stops at its answer.
      h.crm.resetStats();
      const four = await h.call("search_records", { word: "Brian Dylan", max_records: 500 });
      expect(found(four)).toEqual(brian);
      for (const module of ["Leads", "Contacts", "Accounts", "Deals"]) expect(pagesOf(module).map((r) => r.query.page), module).toEqual(["1"]);
      // An email search reads Leads and Contacts: 4 / 2 = 2 pages at once each (per_page 200 of up
      // to 1000 records), never the whole cap: page 2 goes out beside page 1, page 3 never does.
      h.crm.resetStats();
      const two = await h.call("search_records", { email: DEMO.leadEmail, max_records: 1000 });
      expect(found(two)).toEqual(brian);
      for (const module of ["Leads", "Contacts"]) {
        expect(pagesOf(module).map((r) => r.query.page).sort(), module).toEqual(["1", "2"]);
        expect(pagesOf(module).every((r) => r.query.per_page === "200"), module).toBe(true);
        expect(widest(pagesOf(module)), module).toBe(2);
      }
      expect(h.crm.stats.requests.filter((r) => /\/(Accounts|Deals)\//.test(r.path))).toEqual([]);
    } finally {
      h.crm.faults.latencyMs = 0;
    }
  });

  it("at ZOHO_CONCURRENCY 1 a module reads exactly the pages there are", async () => {
    const narrow = await startHarness({ env: { ZOHO_CONCURRENCY: "1" } });
    try {
      const criteria = `(Parent_Id:equals:${DEMO.massImportLeadId})and(Note_Title:starts_with:Call recap)`;
      const result = await narrow.call("search_records", { criteria, module_api_name: "Notes", max_records: 2000, fields: ["Note_Title"] });
      expect(rows(result)).toHaveLength(307);
      expect(narrow.crm.stats.requests.filter((r) => r.path === "/crm/v7/Notes/search").map((r) => r.query.page)).toEqual(["1", "2"]);
    } finally {
      await narrow.close();
    }
  });

  it("a search across four modules takes about one request's time when each request takes 150 ms", async () => {
    await h.call("search_records", { word: "Zylker" }); // token and org read once, as in any session
    h.crm.faults.latencyMs = 150;
    try {
      const started = performance.now();
      const result = await h.call("search_records", { word: "Zylker" });
      const elapsed = performance.now() - started;
      expect(result.isError, h.text(result)).toBeFalsy();
      expect((result.structuredContent as { modules: unknown[] }).modules).toHaveLength(4);
      console.info(`search across 4 modules at 150 ms a request: ${Math.round(elapsed)} ms`);
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(290); // one at a time would be 600 ms
    } finally {
      h.crm.faults.latencyMs = 0;
    }
  });

  it("cold (nothing cached), the org and the modules' web names are read beside the searches: about one request's time", async () => {
    // Six requests (org, modules, four searches): ZOHO_CONCURRENCY=8 lets them go together (at the default 4 they take two rounds).
    const cold = await startHarness({ crm: { latencyMs: 150 }, env: { ZOHO_CONCURRENCY: "8" } });
    try {
      const started = performance.now();
      const result = await cold.call("search_records", { word: "Brian Dylan" });
      const elapsed = performance.now() - started;
      expect(result.isError, cold.text(result)).toBeFalsy();
      expect(rows(result).map((r) => r.$web_url)).toEqual([web("Leads", DEMO.leadId), web("Contacts", DEMO.leadContactId)]);
      expect(cold.crm.stats.requests.map((r) => r.path).sort()).toEqual([...["Accounts", "Contacts", "Deals", "Leads"].map((m) => `/crm/v7/${m}/search`), "/crm/v7/org", "/crm/v7/settings/modules"]);
      console.info(`cold search across 4 modules at 150 ms a request: ${Math.round(elapsed)} ms`);
      expect(elapsed).toBeLessThan(290); // the modules read after the searches made it 300+
    } finally {
      await cold.close();
    }
  });
});

describe("the search scope", () => {
  it("without ZohoSearch.securesearch.READ (Zoho's Search Records page asks for it beside the modules scope) the refusal names it", async () => {
    const bare = await startHarness({ crm: { withoutScopes: ["ZohoSearch.securesearch.READ"] } });
    try {
      for (const args of [{ word: "Brian Dylan" }, { word: "Brian Dylan", module_api_name: "Leads" }]) {
        const result = await bare.call("search_records", args);
        expect(result.isError, JSON.stringify(args)).toBe(true);
        expect(bare.text(result)).toMatch(/OAUTH_SCOPE_MISMATCH.*grant ZohoSearch\.securesearch\.READ and ZohoCRM\.modules\.READ \(or ZohoCRM\.modules\.leads\.READ\)/s);
      }
      // The other tools do not need it.
      expect((await bare.call("get_record", { module_api_name: "Leads", record_id: DEMO.leadId })).isError).toBeFalsy();
    } finally {
      await bare.close();
    }
  });
});

describe("web addresses", () => {
  it("without ZohoCRM.org.READ the records come without web addresses, and the text says why once", async () => {
    const bare = await startHarness({ crm: { withoutScopes: ["ZohoCRM.org.READ"] } });
    try {
      const result = await bare.call("search_records", { word: "Brian Dylan" });
      expect(found(result)).toEqual(brian);
      expect(rows(result).every((r) => r.$web_url === undefined)).toBe(true);
      expect(bare.text(result).match(/No web addresses: .*ZohoCRM\.org\.READ/g)).toHaveLength(1);
    } finally {
      await bare.close();
    }
  });

  it("the host follows the data center of the API domain in use: crm.zoho.eu for EU", async () => {
    const { webOriginFor, dataCenterOfApiDomain } = await import("../src/config.js");
    expect(dataCenterOfApiDomain("https://www.zohoapis.eu")).toBe("eu");
    expect(dataCenterOfApiDomain("https://www.zohoapis.com.au")).toBe("au");
    expect(dataCenterOfApiDomain("https://www.zohoapis.com")).toBe("us");
    expect(dataCenterOfApiDomain("http://127.0.0.1:8080")).toBeUndefined();
    expect(webOriginFor("eu", "production")).toBe("https://crm.zoho.eu");
    expect(webOriginFor("ca", "production")).toBe("https://crm.zohocloud.ca");
    expect(webOriginFor("us", "sandbox")).toBe("https://crmsandbox.zoho.com");
  });
});

describe("a way back to Zoho from lists", () => {
  it("get_related_records, get_open_activities and get_closed_activities give a web-address template once, read beside the list", async () => {
    const fresh = await startHarness({ crm: { latencyMs: 50 } });
    try {
      const base = `https://crm.zoho.com/crm/${DEMO.orgDomain}/tab`;
      const notes = await fresh.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" });
      expect(fresh.text(notes).split("\n")[1]).toBe(`Open in Zoho: ${base}/Notes/{id}`);
      // GET /org started before the list's answer came: beside it, not one more round trip after it.
      const org = fresh.crm.stats.requests.find((r) => r.path === "/crm/v7/org")!;
      const list = fresh.crm.stats.requests.find((r) => r.path === `/crm/v7/Leads/${DEMO.leadId}/Notes`)!;
      expect(org.startedAt).toBeLessThan(list.endedAt);
      for (const tool of ["get_open_activities", "get_closed_activities"]) {
        const text = fresh.text(await fresh.call(tool, { module_api_name: "Leads", record_id: DEMO.leadId }));
        expect(text.split("\n")[1], tool).toBe(`Open in Zoho: ${base}/{module}/{id}, {module} as the row names it`);
        expect(text.match(/Open in Zoho/g), tool).toHaveLength(1);
      }
      // Lists whose records have no page of their own (Attachments, Emails) get none.
      const emails = await fresh.call("get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Emails" });
      expect(fresh.text(emails)).not.toContain("Open in Zoho");
      const overview = await fresh.call("get_related_overview", { record_id: web("Leads", DEMO.leadId) });
      expect(fresh.text(overview).split("\n")[1]).toBe(`Open in Zoho: ${web("Leads", DEMO.leadId)}`);
    } finally {
      await fresh.close();
    }
  });

  it("without ZohoCRM.org.READ the line is left out and the call still answers", async () => {
    const bare = await startHarness({ crm: { withoutScopes: ["ZohoCRM.org.READ"] } });
    try {
      for (const [tool, args] of [
        ["get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" }],
        ["get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId }],
        ["get_related_overview", { module_api_name: "Leads", record_id: DEMO.leadId }],
      ] as const) {
        const result = await bare.call(tool, args);
        expect(result.isError, tool).toBeFalsy();
        expect(bare.text(result), tool).not.toContain("Open in Zoho");
      }
    } finally {
      await bare.close();
    }
  });
});

describe("records named as people name them", () => {
  it("get_related_overview and get_related_records take a pasted web address (tab/Potentials too); requests go to the configured API domain", async () => {
    h.crm.resetStats();
    // An address of another data center's host: only its module and id are read.
    const deal = await h.call("get_related_overview", { record_id: web("Potentials", DEMO.dealId, "crm.zoho.eu") });
    expect(deal.isError, h.text(deal)).toBeFalsy();
    expect(deal.structuredContent).toMatchObject({ module_api_name: "Deals", record_id: DEMO.dealId });
    const notes = await h.call("get_related_records", { record_id: `${web("Leads", DEMO.leadId)}?sub=overview`, related_list_api_name: "Notes" });
    expect(notes.structuredContent).toMatchObject({ module_api_name: "Leads", record_id: DEMO.leadId, count: DEMO.leadNoteIds.length });
    const open = await h.call("get_open_activities", { record_id: web("Leads", DEMO.leadId) });
    expect(open.structuredContent).toMatchObject({ count: 4 });
    // Every request reached the demo CRM, which is the configured (token's) API domain.
    expect(h.crm.stats.requests.some((r) => r.path === `/crm/v7/Deals/${DEMO.dealId}/Notes`)).toBe(true);
    expect(h.deps.client.tokens.apiDomain).toBe(h.crm.url);
  });

  it("module names take the forms docs/tools.md names: any case, with or without _, and no spaces", async () => {
    for (const name of ["salesorders", "SalesOrders", "sales_order", "Sales_Orders"]) {
      const result = await h.call("list_related_lists", { module_api_name: name });
      expect(result.structuredContent, name).toMatchObject({ module_api_name: "Sales_Orders" });
    }
    const spaced = await h.call("list_related_lists", { module_api_name: "Sales Orders" });
    expect(h.text(spaced)).toMatch(/letters, digits and _ only .*at module_api_name/);
    const doc = readFileSync(new URL("../docs/tools.md", import.meta.url), "utf8").replace(/\s+/g, " ");
    expect(doc).toContain("Spaces are refused");
    expect(doc).not.toContain("`_` or spaces");
  });

  it("module names as people write them resolve, or are refused naming the real ones", async () => {
    for (const name of ["Deal", "deals", "Potentials", "Deals"]) {
      const result = await h.call("list_related_lists", { module_api_name: name });
      expect(result.structuredContent, name).toMatchObject({ module_api_name: "Deals" });
    }
    h.crm.resetStats();
    const refused = await h.call("get_related_overview", { module_api_name: "Dealz", record_id: DEMO.dealId });
    expect(refused.isError).toBe(true);
    expect(h.text(refused)).toMatch(/module_api_name: "Dealz" is not a module of this CRM; its modules are Leads, Accounts, Contacts, Deals, .*Shipments/);
    expect(h.crm.stats.requests.filter((r) => !r.path.startsWith("/crm/v7/settings/"))).toEqual([]);
    const noModule = await h.call("get_related_overview", { record_id: DEMO.dealId });
    expect(h.text(noModule)).toMatch(/module_api_name: required with a numeric record_id/);
    const mismatch = await h.call("get_related_overview", { module_api_name: "Leads", record_id: web("Potentials", DEMO.dealId) });
    expect(h.text(mismatch)).toMatch(/module_api_name \(Leads\) and record_id's web address \(Deals\) name different modules/);
    const notZoho = await h.call("get_related_overview", { record_id: "https://example.com/crm/org1/tab/Leads/123" });
    expect(h.text(notZoho)).toMatch(/must be a Zoho CRM record's web address[\s\S]*at record_id/);
  });
});

describe("get_record", () => {
  it("reads a found record's link, the same as resources/read, with its web address", async () => {
    const search = await h.call("search_records", { email: DEMO.leadEmail });
    const uri = links(search)[0]!;
    const result = await h.call("get_record", { uri });
    expect(result.isError, h.text(result)).toBeFalsy();
    const text = h.text(result);
    expect(text.split("\n")[0]).toBe(`Brian Dylan: Leads ${DEMO.leadId} (${web("Leads", DEMO.leadId)})`);
    const viaResource = await h.client.readResource({ uri });
    const resourceRecord = JSON.parse((viaResource.contents[0] as { text: string }).text) as Record<string, unknown>;
    expect(JSON.parse(text.split("\n").slice(1).join("\n"))).toEqual(resourceRecord);
    // No empty fields.
    expect(Object.values(resourceRecord).some((v) => v === null || v === "")).toBe(false);
    expect(result.structuredContent).toMatchObject({ id: DEMO.leadId, $module: "Leads", $web_url: web("Leads", DEMO.leadId) });
    // By module and id, and by web address: the same record.
    expect(h.text(await h.call("get_record", { module_api_name: "Leads", record_id: DEMO.leadId }))).toBe(text);
    expect(h.text(await h.call("get_record", { record_id: web("Potentials", DEMO.dealId) }))).toContain(`Deals ${DEMO.dealId} (${web("Potentials", DEMO.dealId)})`);
  });

  it("an email's content, as text", async () => {
    const result = await h.call("get_record", { uri: `zohocrm://records/Leads/${DEMO.leadId}/Emails/${DEMO.leadEmailIds[0]}` });
    expect(result.isError, h.text(result)).toBeFalsy();
    const text = h.text(result);
    expect(text).toContain("Email of Leads");
    expect(text).toContain("Re: Pricing call next week");
    expect(text).toContain(`From: ${DEMO.leadEmail}`);
    expect(text).toContain("Hi Patricia,\nI am travelling until Thursday. Could we move the pricing call to next week?\nBrian");
    expect(text).not.toContain("<div>");
  });

  it("a text attachment as text, an image as image content, anything else as an embedded resource", async () => {
    const csv = await h.call("get_record", { uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[1]}` });
    expect(h.text(csv)).toMatch(/^Attachment pricing-tiers\.csv of Deals .*: text\/csv, \d+ bytes\ntier,vehicles,price_per_vehicle_usd\nStarter,1-50,18/);
    const png = await h.call("get_record", { uri: `zohocrm://records/Contacts/${DEMO.leadContactId}/Attachments/${DEMO.leadContactImageId}` });
    const image = png.content.find((c) => c.type === "image") as { data: string; mimeType: string } | undefined;
    expect(image?.mimeType).toBe("image/png");
    expect(Buffer.from(image!.data, "base64").subarray(1, 4).toString()).toBe("PNG");
    const pdf = await h.call("get_record", { uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[0]}` });
    const embedded = pdf.content.find((c) => c.type === "resource") as { resource: { uri: string; mimeType: string; blob: string } } | undefined;
    expect(embedded?.resource.mimeType).toBe("application/pdf");
    expect(Buffer.from(embedded!.resource.blob, "base64").subarray(0, 5).toString()).toBe("%PDF-");
  });

  it("above ZOHO_MAX_ATTACHMENT_BYTES: what it is and why it is not inlined", async () => {
    const small = await startHarness({ env: { ZOHO_MAX_ATTACHMENT_BYTES: "50" } });
    try {
      const result = await small.call("get_record", { uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[0]}` });
      expect(result.isError).toBeFalsy();
      expect(small.text(result)).toMatch(new RegExp(`^Attachment Fleet-Tracking-Proposal\\.pdf \\(application/pdf, id ${DEMO.dealAttachmentIds[0]}\\) of Deals \\d+ .* is not inlined: the file is \\d+ bytes, above the 50-byte cap \\(ZOHO_MAX_ATTACHMENT_BYTES\\)`));
    } finally {
      await small.close();
    }
  });

  it("bad input is refused before any request", async () => {
    h.crm.resetStats();
    for (const [args, message] of [
      [{}, /give uri, or record_id/],
      [{ uri: "zohocrm://records/Leads/1", record_id: "1" }, /give uri, or record_id/],
      [{ uri: "https://crm.zoho.com/crm/x/tab/Leads/1" }, /uri: .* is not a zohocrm:\/\/ link/],
      [{ uri: `zohocrm://records/Leads/${DEMO.leadId}/Notes/1` }, /is not a zohocrm:\/\/ link/],
      [{ record_id: DEMO.leadId }, /module_api_name: required with a numeric record_id/],
    ] as const) {
      const result = await h.call("get_record", args as Record<string, unknown>);
      expect(result.isError, JSON.stringify(args)).toBe(true);
      expect(h.text(result)).toMatch(message);
    }
    expect(h.crm.stats.crmRequests).toBe(0);
  });
});

describe("per-user sign-in", () => {
  it("a signed-in user finds only what they may see: ravi does not find the lead private to patricia", async () => {
    const s = await startSignInServer();
    try {
      const [p, r] = await Promise.all([connectSignedIn(s.mcpUrl, "patricia"), connectSignedIn(s.mcpUrl, "ravi", new TestOAuthProvider("http://127.0.0.1:53683/callback", "second client"))]);
      const search = async (c: typeof p, args: Record<string, unknown>) => (await c.client.callTool({ name: "search_records", arguments: args })) as CallToolResult;
      const pFound = await search(p, { word: "Hannah Ortiz" });
      expect(found(pFound)).toEqual([["Leads", DEMO.restrictedLeadId]]);
      const rFound = await search(r, { word: "Hannah Ortiz" });
      expect(rFound.isError).toBeFalsy();
      expect(found(rFound)).toEqual([]);
      expect(h.text(rFound)).toContain("No record matches");
      // By email and by criteria too: Zoho never shows a user a record their profile hides.
      for (const args of [{ email: "hannah.ortiz@example.com" }, { criteria: "(Last_Name:equals:Ortiz)", module_api_name: "Leads" }]) {
        expect(found(await search(p, args)), JSON.stringify(args)).toEqual([["Leads", DEMO.restrictedLeadId]]);
        expect(found(await search(r, args)), JSON.stringify(args)).toEqual([]);
      }
      // Both find the lead everyone may see, and read it through its link.
      for (const c of [p, r]) {
        const hit = await search(c, { word: "Brian Dylan" });
        expect(found(hit)).toEqual(brian);
        const uri = links(hit)[0]!;
        const read = (await c.client.callTool({ name: "get_record", arguments: { uri } })) as CallToolResult;
        expect(read.isError).toBeFalsy();
        expect((await c.client.readResource({ uri })).contents).toHaveLength(1);
      }
      await Promise.all([p.client.close(), r.client.close()]);
    } finally {
      await s.close();
    }
  });

  it("with ZOHO_CONCURRENCY=8 (a share of 4 per user) a signed-in user's search across four modules takes about one request's time", async () => {
    const s = await startSignInServer({ env: { ZOHO_CONCURRENCY: "8" } });
    try {
      const p = await connectSignedIn(s.mcpUrl, "patricia");
      const search = async () => (await p.client.callTool({ name: "search_records", arguments: { word: "Zylker" } })) as CallToolResult;
      s.crm.faults.latencyMs = 150;
      const coldStart = performance.now();
      expect((await search()).isError).toBeFalsy();
      const cold = performance.now() - coldStart;
      const started = performance.now();
      const result = await search();
      const elapsed = performance.now() - started;
      expect(result.isError, h.text(result)).toBeFalsy();
      expect((result.structuredContent as { modules: unknown[] }).modules).toHaveLength(4);
      console.info(`signed-in search across 4 modules at 150 ms a request, ZOHO_CONCURRENCY=8: ${Math.round(elapsed)} ms (cold ${Math.round(cold)} ms)`);
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(290); // two rounds (a share of 2, the default 4) would be 300+
      await p.client.close();
    } finally {
      await s.close();
    }
  });
});
