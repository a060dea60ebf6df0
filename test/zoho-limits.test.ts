// Property tests that judge validity independently of our schemas: inputs are generated around
// Zoho's documented limits for Get Related Records (test/fixtures/zoho sources: the v7
// get-related-records page), and an oracle written from those documents, not from
// src/tools/schemas.ts, says whether Zoho would take them. The server must refuse exactly what
// Zoho would refuse (before any request, naming the field), plus only the stricter rules it
// documents as its own choice (per_page above ZOHO_MAX_RECORDS).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

/** Zoho's documented limits (get-related-records.html, "Parameters" and "Note"). */
const ZOHO = {
  perPage: { min: 1, max: 200, default: 200 },
  /** Records reachable with `page`: page × per_page must stay within record 2000 (DISCRETE_PAGINATION_LIMIT_EXCEEDED). */
  discrete: 2000,
  fields: { min: 1, max: 50 },
  sortBy: ["id", "Created_Time", "Modified_Time"],
  sortOrder: ["asc", "desc"],
  converted: ["true", "false", "both"],
} as const;

interface Input {
  page?: number;
  per_page?: number;
  fields?: string[];
  sort_by?: string;
  sort_order?: string;
  converted?: string;
}

/** The parameters Zoho would refuse (empty when Zoho takes the request). `perPageSent`: what the request carries. */
function zohoRefuses(input: Input, perPageSent: number): string[] {
  const bad: string[] = [];
  const perPageOk = input.per_page === undefined || (input.per_page >= ZOHO.perPage.min && input.per_page <= ZOHO.perPage.max);
  if (!perPageOk) bad.push("per_page");
  if (input.page !== undefined && (input.page < 1 || (perPageOk && input.page * perPageSent > ZOHO.discrete))) bad.push("page");
  if (input.fields !== undefined && (input.fields.length < ZOHO.fields.min || input.fields.length > ZOHO.fields.max)) bad.push("fields");
  if (input.sort_by !== undefined && !(ZOHO.sortBy as readonly string[]).includes(input.sort_by)) bad.push("sort_by");
  if (input.sort_order !== undefined && !(ZOHO.sortOrder as readonly string[]).includes(input.sort_order)) bad.push("sort_order");
  if (input.converted !== undefined && !(ZOHO.converted as readonly string[]).includes(input.converted)) bad.push("converted");
  return bad;
}

/** Values on and around each documented edge, and the documented values beside near misses. */
const around = (edges: number[]) => fc.oneof(fc.constantFrom(...edges.flatMap((e) => [e - 1, e, e + 1])), fc.integer({ min: -3, max: 2100 }));
const fieldList = fc.integer({ min: 0, max: 55 }).map((n) => Array.from({ length: n }, (_, i) => `Field_${i}`));
const input: fc.Arbitrary<Input> = fc.record(
  {
    page: around([1, 10, 11, 20, 40, 41, 400, 2000]),
    per_page: around([1, 5, 50, 100, 200]),
    fields: fieldList,
    sort_by: fc.constantFrom(...ZOHO.sortBy, "Full_Name", "ID", "created_time"),
    sort_order: fc.constantFrom(...ZOHO.sortOrder, "ASC", "up"),
    converted: fc.constantFrom(...ZOHO.converted, "yes", "TRUE"),
  },
  { requiredKeys: [] },
);

const notes = { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" };

describe.each([
  ["ZOHO_MAX_RECORDS=2000 (the default)", 2000],
  ["ZOHO_MAX_RECORDS=50 (one-page reads send per_page=50)", 50],
])("%s", (_, cap) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { ZOHO_MAX_RECORDS: String(cap) } });
  });
  afterAll(() => h.close());

  it("refuses exactly what Zoho refuses, before any request, naming the parameter", async () => {
    await fc.assert(
      fc.asyncProperty(input, async (i) => {
        // Our own documented choice: one call fetches at most ZOHO_MAX_RECORDS, so a larger per_page is refused too.
        const ownRule = i.per_page !== undefined && i.per_page >= 1 && i.per_page <= 200 && i.per_page > cap;
        // What the request would carry: the given per_page, else (one page, cap below 200) the cap, else Zoho's 200.
        const sent = i.per_page ?? (i.page !== undefined ? Math.min(cap, ZOHO.perPage.default) : ZOHO.perPage.default);
        const refused = zohoRefuses(i, sent);
        h.crm.resetStats();
        const r = await h.call("get_related_records", { ...notes, ...i });
        const text = h.text(r);
        // A refusal is the schema's (JSON-RPC -32602 from the SDK's validation) or the tool's own "Invalid input".
        const isRefusal = /^(Invalid input: |MCP error -32602: Input validation error)/.test(text);
        if (refused.length || ownRule) {
          expect(isRefusal, `${JSON.stringify(i)} -> ${text}`).toBe(true);
          // It names one of the parameters Zoho would refuse (the first the server checks).
          if (refused.length) expect(refused.some((p) => text.includes(p)), `${JSON.stringify(i)} -> ${text}`).toBe(true);
          expect(h.crm.stats.requests.filter((q) => !q.path.includes("/settings/")), JSON.stringify(i)).toHaveLength(0);
        } else {
          // Zoho would take it: the server must send it (fields of ours are unknown to the demo, which Zoho ignores too).
          expect(isRefusal, `${JSON.stringify(i)} -> ${text}`).toBe(false);
          expect(r.isError, `${JSON.stringify(i)} -> ${text}`).toBeFalsy();
        }
      }),
      { numRuns: 120 },
    );
  });
});
