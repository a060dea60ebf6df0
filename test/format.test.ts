import { describe, expect, test } from "vitest";
import { formatValue, recordLine, recordRow, resourceLink } from "../src/format/records.js";
import { TextBudget, continueAt } from "../src/format/budget.js";
import { listRelatedLists } from "../src/tools/list-related-lists.js";
import type { ToolDeps, ToolExtra } from "../src/tools/types.js";
import { planWalk } from "../src/zoho/related-records.js";

describe("formatValue: no null noise, lookups by name", () => {
  test.each([
    [null, undefined],
    [undefined, undefined],
    ["", undefined],
    ["   ", undefined],
    [[], undefined],
    [{}, undefined],
    ["Call  back\non Monday", "Call back on Monday"],
    [42.5, "42.5"],
    [false, "false"],
    [{ name: "Patricia Boyle", id: "4876876000000327001", email: "p@x.com" }, "Patricia Boyle"],
    [[{ name: "A", id: "1" }, null, { name: "B", id: "2" }], "A, B"],
    [{ id: "4876876000000327001" }, "4876876000000327001"],
  ])("%o -> %o", (value, shown) => {
    expect(formatValue(value)).toBe(shown);
  });

  test("long text is cut at 300 characters with an ellipsis", () => {
    const shown = formatValue("x".repeat(1000))!;
    expect(shown).toHaveLength(300);
    expect(shown.endsWith("…")).toBe(true);
  });
});

describe("recordRow: columns named once by the headline", () => {
  const note = { id: "111", Note_Title: "Pricing call", Note_Content: null, Owner: { name: "Patricia Boyle", id: "9" }, Created_Time: "2026-03-14T10:22:31+05:30" };
  test("id, then each requested value in the requested order; a missing value is an empty column", () => {
    expect(recordRow(note, ["Owner", "Note_Title", "Note_Content", "Created_Time"])).toBe("111 | Patricia Boyle | Pricing call |  | 2026-03-14T10:22:31+05:30");
  });
  test("trailing empty columns are dropped; id is not repeated when requested", () => {
    expect(recordRow(note, ["id", "Note_Title", "Note_Content"])).toBe("111 | Pricing call");
    expect(recordRow({ id: "7" }, ["Subject"])).toBe("7");
  });
  test("a | inside a value is escaped, so columns stay countable", () => {
    expect(recordRow({ id: "8", Subject: "A | B" }, ["Subject", "Status"])).toBe("8 | A \\| B");
  });
});

describe("recordLine: activity views, each value with its field name", () => {
  const note = { id: "111", Note_Title: "Pricing call", Note_Content: null, Owner: { name: "Patricia Boyle", id: "9" }, Created_Time: "2026-03-14T10:22:31+05:30" };
  test("only requested fields that have a value, in the requested order", () => {
    expect(recordLine(note, ["Owner", "Note_Title", "Note_Content", "Created_Time"])).toBe(
      "111 Owner: Patricia Boyle · Note_Title: Pricing call · Created_Time: 2026-03-14T10:22:31+05:30",
    );
  });
  test("activity rows show their module", () => {
    expect(recordLine({ id: "5", $module: "Calls", Subject: "Demo" }, ["Subject"], "Calls")).toBe("5 [Calls] Subject: Demo");
  });
  test("a record with no values is its id", () => {
    expect(recordLine({ id: "7" }, ["Subject"])).toBe("7");
  });
});

describe("resource links", () => {
  test("uri in the record's own module, named by its id: no value of the line is repeated", () => {
    expect(resourceLink({ id: "5", $module: "Tasks", Subject: "Send quote" }, "Tasks")).toEqual({
      type: "resource_link",
      uri: "zohocrm://records/Tasks/5",
      name: "5",
      mimeType: "application/json",
    });
  });
});

describe("planWalk", () => {
  test.each([
    // maxRecords, expected per_page, last page fetched by number
    [200, 200, 1],
    [50, 50, 1],
    [201, 200, 2],
    [2000, 200, 10],
    [2450, 200, 10],
    [10_000, 200, 10],
    [1, 1, 1],
  ])("max %i -> %i per page, pages 1..%i by number", (max, size, last) => {
    expect(planWalk(max)).toEqual({ perPage: size, lastDiscretePage: last });
  });
});

describe("continueAt: the call that prints rows from record index `next` on", () => {
  test.each([
    // next, rows shown per call, pages fetched, expected
    [120, 120, [], "page=2, per_page=120"],
    [200, 150, [], "page=3, per_page=100"],
    [151, 151, [], "page=2, per_page=151"],
    [157, 150, [], "page=2, per_page=150, whose first 7 rows are printed already"],
    [300, 200, [], "page=3, per_page=150"],
    [1990, 150, [], "page=200, per_page=10"],
    [2150, 150, [{ first: 2000, page_token: "t11" }, { first: 2200, page_token: "t12" }], 'page_token="t11", per_page=200, whose first 150 rows are printed already'],
  ] as const)("next %i, %i shown -> %s", (next, shown, pages, expected) => {
    expect(continueAt(next, shown, [...pages])).toBe(expected);
  });
});

describe("TextBudget", () => {
  test("takes rows while they fit, counting each link's uri and name; after the first refusal none", () => {
    const budget = new TextBudget(100, 20);
    const link = { type: "resource_link" as const, uri: "zohocrm://records/Notes/1", name: "1" };
    expect(budget.take("x".repeat(30))).toBe(true); // 20 + 31
    expect(budget.take("y".repeat(10), link)).toBe(true); // + 11 + 26 = 88
    expect(budget.take("z".repeat(20))).toBe(false); // 109 > 100
    expect(budget.take("")).toBe(false); // no gaps: a later short row is not printed either
  });
});

describe("list_related_lists within the result budget", () => {
  test("lines past ZOHO_RESULT_MAX_CHARS are counted, not printed; structuredContent has every list", async () => {
    const lists = Array.from({ length: 120 }, (_, i) => ({ api_name: `Custom_List_${i}`, display_label: `Custom list number ${i}`, module: "Custom__c", type: "default", status: "visible", id: String(i) }));
    const deps = { catalog: { lists: async () => lists }, config: { resultMaxChars: 2000 } } as unknown as ToolDeps;
    const result = await listRelatedLists.handler({ module_api_name: "Leads" }, {} as ToolExtra, deps);
    const text = (result.content[0] as { text: string }).text;
    expect(text.length).toBeLessThanOrEqual(2000);
    const printed = text.split("\n").filter((l) => l.startsWith("Custom_List_")).length;
    expect(printed).toBeGreaterThan(10);
    expect(text.split("\n").at(-1)).toBe(`${120 - printed} more not printed (ZOHO_RESULT_MAX_CHARS, 2000 characters): structuredContent.related_lists has all 120.`);
    expect((result.structuredContent as { related_lists: unknown[] }).related_lists).toHaveLength(120);
  });
});

describe("subform and multi-select lookup values read as a person reads them", () => {
  // Shapes from Zoho's Get Record answers: a multi-select lookup field holds rows of the linking
  // module ({connected field: {name, id}, id}); a subform holds its rows ({field: value, ..., id, Parent_Id}).
  test("a multi-select lookup shows the looked-up names, not the linking rows' ids", () => {
    const value = [
      { Partner_Accounts: { name: "Globex Corp", id: "4876876000000391086" }, id: "4876876000001201001" },
      { Partner_Accounts: { name: "Initech", id: "4876876000000391099" }, id: "4876876000001201013" },
    ];
    expect(formatValue(value)).toBe("Globex Corp, Initech");
  });
  test("a subform shows each row's main values, shortened, not its row id", () => {
    const rows = [
      { Competitor: "Globex Fleet", Threat_Level: "High", Notes_Field: "Cheaper per vehicle", Region: "West", id: "4876876000001202001", Parent_Id: { name: "Zylker Inc - Fleet Tracking Rollout", id: "4876876000000405001" }, Created_Time: "2026-02-01T10:00:00+05:30" },
      { Competitor: { name: "Initech", id: "4876876000000391099" }, Threat_Level: "Low", id: "4876876000001202013", $in_merge: false },
    ];
    expect(formatValue(rows)).toBe("Globex Fleet / High / Cheaper per vehicle, Initech / Low");
  });
  test("a status list ([{type}]) shows its types", () => {
    expect(formatValue([{ type: "opened", first_open: "2026-03-09T09:30:00+05:30" }])).toBe("opened / 2026-03-09T09:30:00+05:30");
  });
  test("a very long subform is cut to the summary's length", () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ Item: `Line item number ${i}`, Quantity: i, id: String(4876876000001203001n + BigInt(i)) }));
    const shown = formatValue(rows)!;
    expect(shown).toHaveLength(300);
    expect(shown.startsWith("Line item number 0 / 0, Line item number 1 / 1")).toBe(true);
    expect(shown.endsWith("…")).toBe(true);
  });
});
