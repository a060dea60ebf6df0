import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_RESULT_MAX_CHARS } from "../src/config.js";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

/** What a client renders of a result: the text and each link's uri and name. */
const rendered = (r: CallToolResult) =>
  r.content.reduce((n, c) => n + (c.type === "text" ? c.text.length : c.type === "resource_link" ? c.uri.length + c.name.length : 0), 0);
const ids = (r: CallToolResult) => (r.structuredContent as { records: Array<{ id: string }> }).records.map((x) => x.id);
/** The ids the text prints, in order: each row starts with its record's id. */
const printed = (h: Harness, r: CallToolResult) =>
  h
    .text(r)
    .split("\n")
    .slice(1)
    .map((l) => /^(\d+) \|/.exec(l)?.[1])
    .filter((id): id is string => id !== undefined);

const notes = { module_api_name: "Accounts", record_id: DEMO.bulkAccountId, related_list_api_name: "Notes" };

describe("the result budget (ZOHO_RESULT_MAX_CHARS)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_RECORDS: "10000" } });
  });
  afterAll(() => h.close());

  test(`2,000 records: the text and links stay within the default (${DEFAULT_RESULT_MAX_CHARS}), structuredContent has all, the text says how to go on`, async () => {
    const result = await h.call("get_related_records", { ...notes, max_records: 2000 });
    expect(result.isError).toBeFalsy();
    expect(ids(result)).toHaveLength(2000);
    expect(rendered(result)).toBeLessThanOrEqual(DEFAULT_RESULT_MAX_CHARS);

    const shown = printed(h, result);
    expect(shown.length).toBeGreaterThan(20);
    expect(shown).toEqual(ids(result).slice(0, shown.length));
    // One link per printed row, none for the rows left out.
    expect(result.content.filter((c) => c.type === "resource_link").map((c) => (c as { name: string }).name)).toEqual(shown);

    const n = shown.length;
    const note = new RegExp(
      `^Rows ${n + 1}-2000 are not printed \\(ZOHO_RESULT_MAX_CHARS, ${DEFAULT_RESULT_MAX_CHARS} characters\\) but are in structuredContent\\.records\\. To print them, call again with page=(\\d+), per_page=(\\d+)(, whose first (\\d+) rows are printed already)? and the same fields, sort and filters\\.$`,
      "m",
    );
    const m = note.exec(h.text(result));
    expect(m, h.text(result).split("\n").slice(-3).join("\n")).not.toBeNull();

    // Following it prints the next rows, from record n + 1 on.
    const [page, perPage, skip] = [Number(m![1]), Number(m![2]), Number(m![4] ?? 0)];
    const next = await h.call("get_related_records", { ...notes, page, per_page: perPage });
    const nextShown = printed(h, next);
    expect(nextShown.slice(skip)[0]).toBe(ids(result)[n]);
    expect(nextShown.slice(skip)).toEqual(ids(result).slice(n, n + nextShown.length - skip));
  });

  test("a small budget: rows are left out whole, the count named exactly, and a page read continues by number", async () => {
    const small = await startHarness({ env: { ZOHO_MAX_RECORDS: "10000", ZOHO_RESULT_MAX_CHARS: "3000" } });
    try {
      const result = await small.call("get_related_records", { ...notes, page: 2, per_page: 100 });
      expect(ids(result)).toHaveLength(100);
      expect(rendered(result)).toBeLessThanOrEqual(3000);
      const shown = printed(small, result);
      expect(shown).toEqual(ids(result).slice(0, shown.length));
      // Rows are whole: every printed line has all four columns of the Notes default.
      const m = /Rows (\d+)-100 are not printed \(ZOHO_RESULT_MAX_CHARS, 3000 characters\) but are in structuredContent\.records\. To print them, call again with page=(\d+), per_page=(\d+)(?:, whose first (\d+) rows are printed already)? and/.exec(small.text(result));
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBe(shown.length + 1);
      // The named page starts at the first row left out: record index 100 + shown.
      const full = ids(await small.call("get_related_records", { ...notes, max_records: 400 }));
      const next = await small.call("get_related_records", { ...notes, page: Number(m![2]), per_page: Number(m![3]) });
      expect(ids(next)[Number(m![4] ?? 0)]).toBe(full[100 + shown.length]);
    } finally {
      await small.close();
    }
  });

  test("the overview prints every list's count within the budget and says which rows it left out", async () => {
    const small = await startHarness({ env: { ZOHO_RESULT_MAX_CHARS: "2000" } });
    try {
      const result = await small.call("get_related_overview", { module_api_name: "Leads", record_id: DEMO.leadId, per_list: 20 });
      expect(rendered(result)).toBeLessThanOrEqual(2000);
      const text = small.text(result);
      // Every list still has its line with its count.
      expect(text).toMatch(/^Notes: 7\b/m);
      expect(text).toMatch(/^Attachments: none$/m);
      expect(text).toMatch(/rows? not printed \(ZOHO_RESULT_MAX_CHARS, 2000 characters\); get_related_records reads a list whole\./);
      const lists = (result.structuredContent as { related_lists: Array<{ api_name: string; records: unknown[] }> }).related_lists;
      expect(lists.find((l) => l.api_name === "Notes")?.records).toHaveLength(7);
    } finally {
      await small.close();
    }
  });

  test("tools that can answer many rows declare their size to Claude Code (anthropic/maxResultSizeChars)", async () => {
    const { tools } = await h.client.listTools();
    const declared = Object.fromEntries(tools.map((t) => [t.name, t._meta?.["anthropic/maxResultSizeChars"]]));
    expect(declared).toEqual({
      search_records: DEFAULT_RESULT_MAX_CHARS,
      get_record: undefined,
      get_related_overview: DEFAULT_RESULT_MAX_CHARS,
      get_related_records: DEFAULT_RESULT_MAX_CHARS,
      get_open_activities: DEFAULT_RESULT_MAX_CHARS,
      get_closed_activities: DEFAULT_RESULT_MAX_CHARS,
      list_related_lists: undefined,
    });
  });
});
