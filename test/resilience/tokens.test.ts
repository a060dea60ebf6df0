// Token expiry under load and Zoho's ten-tokens-per-ten-minutes rule, against the demo accounts server.
import { afterEach, describe, expect, it } from "vitest";
import { DEMO } from "../../src/demo/seed.js";
import { startHarness, type Harness } from "../helpers.js";

const OPEN = { module_api_name: "Leads", record_id: DEMO.leadId };
let h: Harness | undefined;

afterEach(async () => {
  h?.expectNoLeaks();
  await h?.close();
  h = undefined;
});

describe("token expiry under load", () => {
  it("20 concurrent calls on an expired token: exactly one refresh, all succeed", async () => {
    h = await startHarness();
    expect((await h.call("get_open_activities", OPEN)).isError).toBeFalsy();
    const before = h.deps.client.tokens.refreshes;
    h.crm.expireAllTokens();
    h.crm.resetStats();

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 ? h!.call("get_open_activities", OPEN) : h!.call("get_related_records", { ...OPEN, related_list_api_name: "Notes" }),
      ),
    );
    expect(results.filter((r) => r.isError).map((r) => h!.text(r))).toEqual([]);
    expect(h.crm.stats.tokenRequests).toBe(1);
    expect(h.crm.stats.tokensIssued).toBe(1);
    expect(h.deps.client.tokens.refreshes - before).toBe(1);
    // Every 401 was answered by one retry with the shared new token, nothing more.
    const statuses = h.crm.stats.requests.map((r) => r.status);
    expect(statuses.filter((s) => s !== 200 && s !== 401)).toEqual([]);
    // 20 answered calls, plus the one shared Related List Metadata request of the Notes calls.
    expect(h.crm.stats.requests.filter((r) => r.status === 200 && !r.path.includes("/settings/"))).toHaveLength(20);
    console.info(`token expiry: 20 concurrent calls, ${statuses.filter((s) => s === 401).length} answered 401, ${h.crm.stats.tokensIssued} refresh`);
  });

  it("refresh limit reached: a clear error saying when to retry, and the token endpoint is left alone", async () => {
    h = await startHarness({ crm: { refreshLimit: { max: 1, windowMs: 600_000 } } });
    expect((await h.call("get_open_activities", OPEN)).isError).toBeFalsy();
    h.crm.expireAllTokens();
    h.crm.resetStats();

    const results = await Promise.all(Array.from({ length: 10 }, () => h!.call("get_open_activities", OPEN)));
    for (const r of results) {
      expect(r.isError).toBe(true);
      expect(h.text(r)).toMatch(/^Zoho error REFRESH_RATE_LIMITED: Zoho blocks new access tokens for now \(about 10 per 10 minutes are allowed\)\. Retry in \d+ s or more/);
    }
    // One refused refresh; the other callers shared it or were told from the cool-down.
    expect(h.crm.stats.tokenRequests).toBe(1);
    const later = await Promise.all(Array.from({ length: 5 }, () => h!.call("get_related_records", { ...OPEN, related_list_api_name: "Notes" })));
    expect(later.every((r) => r.isError && h!.text(r).includes("REFRESH_RATE_LIMITED"))).toBe(true);
    expect(h.crm.stats.tokenRequests).toBe(1);
    expect(h.logs.some((l) => l.level === "warning" && String(l.data).includes("refresh limit reached"))).toBe(true);
  });
});
