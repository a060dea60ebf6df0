// The metadata caches are bounded: one entry per module name asked would otherwise grow without end.
import { afterAll, beforeAll, expect, test } from "vitest";
import { METADATA_CACHE_ENTRIES } from "../src/zoho/metadata.js";
import { startHarness, type Harness } from "./helpers.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

test(`related-list metadata keeps at most ${METADATA_CACHE_ENTRIES} modules, dropping the least recently used`, async () => {
  const catalog = h.deps.catalog;
  expect(METADATA_CACHE_ENTRIES).toBe(256);
  await catalog.lists("Leads");
  // 255 names the org does not have: each refusal (INVALID_MODULE) is remembered for a minute.
  for (let i = 0; i < METADATA_CACHE_ENTRIES - 1; i++) await catalog.lists(`Probe_${i}`).catch(() => undefined);
  expect(catalog.cached).toBe(METADATA_CACHE_ENTRIES);
  await catalog.lists("Leads"); // used again: now the most recent
  const before = catalog.requests;
  await catalog.lists("Accounts"); // one more: Probe_0, the least recently used, goes
  expect(catalog.cached).toBe(METADATA_CACHE_ENTRIES);
  expect(catalog.requests).toBe(before + 1);
  await catalog.lists("Leads");
  expect(catalog.requests).toBe(before + 1); // still cached
  await catalog.lists("Probe_0").catch(() => undefined);
  expect(catalog.requests).toBe(before + 2); // was dropped: asked again
  for (let i = 0; i < 300; i++) await catalog.lists(`More_${i}`).catch(() => undefined);
  expect(catalog.cached).toBe(METADATA_CACHE_ENTRIES);
});
