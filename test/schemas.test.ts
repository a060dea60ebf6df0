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
    // Without per_page the page size depends on ZOHO_MAX_RECORDS: that case is checked per call (walk.test.ts).
    [{ ...ok, page: 21, per_page: 100 }, /^page: page × per_page \(100\) must stay within record 2000/],
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

test("the activity tools take the same input less related_list_api_name (and the Emails list's own filters)", () => {
  const shape = Object.keys(getOpenActivities.inputSchema.shape).sort();
  const full = Object.keys(getRelatedRecords.inputSchema.shape).filter((k) => !["related_list_api_name", "type", "owner_id"].includes(k)).sort();
  expect(shape).toEqual(full);
});

describe("friendlier input (issue 11)", () => {
  test("a record id sent as a JSON number is refused with the reason, never rounded", () => {
    // 4876876000000376008 is not a double: JSON.parse hands the server 4876876000000376000.
    const message = refusal({ ...ok, record_id: 4876876000000376008 });
    expect(message).toBe(
      'record_id: must be a string, e.g. "4876876000000376008": a JSON number loses digits past 2^53 (9007199254740992), so a Zoho id sent as a number arrives changed',
    );
    expect(refusal({ ...ok, ids: [4876876000001017003] })).toMatch(/^ids\.0: must be a string, e\.g\. "\d+": a JSON number loses digits past 2\^53/);
    expect(refusal({ module_api_name: "Leads", related_list_api_name: "Notes" })).toBe("record_id: is required");
  });

  test("fields also takes Zoho's own comma-separated string", () => {
    expect(getRelatedRecords.inputSchema.parse({ ...ok, fields: "Note_Title, Owner,Created_Time" }).fields).toEqual(["Note_Title", "Owner", "Created_Time"]);
    expect(getOpenActivities.inputSchema.parse({ module_api_name: "Leads", record_id: "1", fields: "Subject" }).fields).toEqual(["Subject"]);
    expect(refusal({ ...ok, fields: "Owner,Email/x" })).toBe("fields.1: must be a field API name (e.g. Note_Title)");
    expect(refusal({ ...ok, fields: "" })).toMatch(/^fields:/);
  });

  test("over-long names are refused with the limit named", () => {
    expect(refusal({ ...ok, module_api_name: `L${"e".repeat(100)}` })).toBe("module_api_name: is 101 characters long: a module API name is at most 100 characters");
    expect(refusal({ ...ok, related_list_api_name: "N".repeat(150) })).toBe("related_list_api_name: is 150 characters long: a related list API name is at most 100 characters");
    expect(refusal({ ...ok, record_id: "1".repeat(31) })).toBe("record_id: is 31 characters long: a Zoho record id is at most 30 characters");
    expect(refusal({ ...ok, fields: [`F${"x".repeat(120)}`] })).toBe("fields.0: is 121 characters long: a field API name is at most 100 characters");
    // 100 exactly is fine.
    expect(getRelatedRecords.inputSchema.safeParse({ ...ok, module_api_name: `L${"e".repeat(99)}` }).success).toBe(true);
  });

  test("the activity tools enforce the same limits without publishing them again", () => {
    const parsed = getOpenActivities.inputSchema.safeParse({ module_api_name: "Leads", record_id: "1", per_page: 500 });
    expect(parsed.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual(["per_page: must be a whole number from 1 to 200"]);
    const numeric = getOpenActivities.inputSchema.safeParse({ module_api_name: "Leads", record_id: 4876876000000376008 });
    expect(numeric.error?.issues[0]?.message).toMatch(/^must be a string, e\.g\. "4876876000000376008": a JSON number loses digits/);
  });
});

describe("if_modified_since goes out in Zoho's documented form (issue 9 item 8)", () => {
  const sent = (value: string) => getRelatedRecords.inputSchema.parse({ ...ok, if_modified_since: value }).if_modified_since;

  test.each([
    ["2019-07-25T15:26:49+05:30", "2019-07-25T15:26:49+05:30"],
    ["2019-07-25T15:26:49Z", "2019-07-25T15:26:49+00:00"],
    ["2019-07-25T15:26:49.123Z", "2019-07-25T15:26:49+00:00"],
    ["2019-07-25T15:26:49.5-03:00", "2019-07-25T15:26:49-03:00"],
    ["2019-07-25T15:26+0530", "2019-07-25T15:26:00+05:30"],
    ["2019-07-25 15:26:49+05", "2019-07-25T15:26:49+05:00"],
    ["2019-07-25t15:26:49z", "2019-07-25T15:26:49+00:00"],
  ])("%s -> %s", (given, expected) => {
    expect(sent(given)).toBe(expected);
  });

  test.each([
    ["yesterday", "must be an ISO 8601 date-time, e.g. 2026-07-25T15:26:49+05:30"],
    ["2019-07-25", "must be an ISO 8601 date-time, e.g. 2026-07-25T15:26:49+05:30"],
    ["2019-02-30T10:00:00Z", "must be an ISO 8601 date-time, e.g. 2026-07-25T15:26:49+05:30"],
    ["2019-07-25T24:00:00Z", "must be an ISO 8601 date-time, e.g. 2026-07-25T15:26:49+05:30"],
    ["2019-07-25T15:26:49", "needs a UTC offset (Z or +05:30): a time without one names no single moment"],
  ])("refuses %s, naming the field", (given, message) => {
    expect(refusal({ ...ok, if_modified_since: given })).toBe(`if_modified_since: ${message}`);
  });
});
