// The tool list as clients see it (names, descriptions, input and output schemas, annotations),
// kept in test/__snapshots__/tools-list.json like github-mcp-server's __toolsnaps__: any schema
// change shows up as a diff in review. After an intended change: npx vitest run -u.

import { afterAll, beforeAll, expect, it } from "vitest";
import { startHarness, type Harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it("tools/list matches test/__snapshots__/tools-list.json", async () => {
  const { tools } = await h.client.listTools();
  await expect(`${JSON.stringify(tools, null, 2)}\n`).toMatchFileSnapshot("./__snapshots__/tools-list.json");
  // Listing tools costs Zoho nothing.
  expect(h.crm.stats.crmRequests + h.crm.stats.tokenRequests).toBe(0);
});

it("the resource template is listed too", async () => {
  const { resourceTemplates } = await h.client.listResourceTemplates();
  await expect(`${JSON.stringify(resourceTemplates, null, 2)}\n`).toMatchFileSnapshot("./__snapshots__/resource-templates.json");
});
