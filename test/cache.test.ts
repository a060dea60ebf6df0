// The metadata caches are bounded: one entry per module name asked would otherwise grow without end.
import { afterAll, beforeAll, expect, test } from "vitest";
import { METADATA_CACHE_ENTRIES, RelatedListCatalog } from "../src/zoho/metadata.js";
import { startHarness, type Harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

test("each metadata cache keeps at most 256 modules by default", () => {
  expect(METADATA_CACHE_ENTRIES).toBe(256);
});

test("the least recently used module goes first, and the bound holds however many names are asked", async () => {
  // The same cache with a bound of 8, so the test asks the demo CRM a few dozen times, not hundreds.
  const catalog = new RelatedListCatalog(h.deps.client, 8);
  await catalog.lists("Leads");
  // 7 names the org does not have: each refusal (INVALID_MODULE) is remembered for a minute.
  for (let i = 0; i < 7; i++) await catalog.lists(`Probe_${i}`).catch(() => undefined);
  expect(catalog.cached).toBe(8);
  await catalog.lists("Leads"); // used again: now the most recent
  const before = catalog.requests;
  await catalog.lists("Accounts"); // one more: Probe_0, the least recently used, goes
  expect(catalog.cached).toBe(8);
  expect(catalog.requests).toBe(before + 1);
  await catalog.lists("Leads");
  expect(catalog.requests).toBe(before + 1); // still cached
  await catalog.lists("Probe_0").catch(() => undefined);
  expect(catalog.requests).toBe(before + 2); // was dropped: asked again
  for (let i = 0; i < 30; i++) await catalog.lists(`More_${i}`).catch(() => undefined);
  expect(catalog.cached).toBe(8);
});
