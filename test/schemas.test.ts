import { describe, expect, test } from "vitest";
import { getRelatedRecords } from "../src/tools/get-related-records.js";
import { getOpenActivities } from "../src/tools/get-open-activities.js";

const ok = { module_api_name: "Leads", record_id: "4876876000000376008", related_list_api_name: "Notes" };

function refusal(input: Record<string, unknown>): string {
  const parsed = getRelatedRecords.inputSchema.safeParse(input);
  expect(parsed.success).toBe(false);
  return parsed.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
}

describe("get_related_records input", () => {
  test("accepts every documented parameter", () => {
    const parsed = getRelatedRecords.inputSchema.parse({
      ...ok,
      fields: ["Note_Title", "Owner", "$editable"],
      page: 2,
      per_page: 50,
      ids: ["4876876000001017003"],
      sort_order: "asc",
      sort_by: "Modified_Time",
      converted: "both",
      if_modified_since: "2026-07-25T15:26:49+05:30",
      max_records: 500,
    });
    expect(parsed.page).toBe(2);
  });

  test.each([
    [{ ...ok, module_api_name: "Leads/../Deals" }, /^module_api_name: must be a module API name/],
    [{ ...ok, module_api_name: "Leads%2F1" }, /^module_api_name:/],
    [{ ...ok, related_list_api_name: "Notes/x" }, /^related_list_api_name: must be a related list API name/],
    [{ ...ok, related_list_api_name: "" }, /^related_list_api_name:/],
    [{ ...ok, record_id: "48768abc" }, /^record_id: must be a Zoho record id: digits only/],
    [{ ...ok, record_id: "-1" }, /^record_id:/],
    [{ ...ok, per_page: 201 }, /^per_page:/],
    [{ ...ok, per_page: 0 }, /^per_page:/],
    [{ ...ok, page: 0 }, /^page:/],
    [{ ...ok, page: 1.5 }, /^page:/],
    [{ ...ok, page: 2, page_token: "abc" }, /^page_token: page and page_token cannot be used together/],
    [{ ...ok, page: 11 }, /^page: page × per_page must stay within record 2000/],
    [{ ...ok, page: 21, per_page: 100 }, /^page: page × per_page must stay within record 2000/],
    [{ ...ok, fields: [] }, /^fields:/],
    [{ ...ok, fields: Array.from({ length: 51 }, (_, i) => `F${i}`) }, /^fields:/],
    [{ ...ok, fields: ["Owner,Email"] }, /^fields\.0: must be a field API name/],
    [{ ...ok, ids: ["12a"] }, /^ids\.0: must be a record id/],
    [{ ...ok, sort_by: "Name" }, /^sort_by:/],
    [{ ...ok, sort_order: "up" }, /^sort_order:/],
    [{ ...ok, converted: "yes" }, /^converted:/],
    [{ ...ok, if_modified_since: "yesterday" }, /^if_modified_since: must be an ISO 8601 date-time/],
    [{ ...ok, max_records: 0 }, /^max_records:/],
  ])("refuses %o", (input, message) => {
    expect(refusal(input)).toMatch(message);
  });

  test("page 10 of 200 and page 20 of 100 reach record 2000 exactly and pass", () => {
    expect(getRelatedRecords.inputSchema.safeParse({ ...ok, page: 10 }).success).toBe(true);
    expect(getRelatedRecords.inputSchema.safeParse({ ...ok, page: 20, per_page: 100 }).success).toBe(true);
  });
});

test("the activity tools take the same input less related_list_api_name", () => {
  const shape = Object.keys(getOpenActivities.inputSchema.shape).sort();
  const full = Object.keys(getRelatedRecords.inputSchema.shape).filter((k) => k !== "related_list_api_name").sort();
  expect(shape).toEqual(full);
});
