// Per-user sessions (sign-in mode): each user's requests go out with their own token, and one user
// may hold at most half of the process's concurrency cap, so a long walk leaves room for the others.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { startDemoCrm, type DemoCrm } from "../src/demo/crm.js";
import { DEMO } from "../src/demo/seed.js";
import { Logger } from "../src/log.js";
import { UserSessions } from "../src/oauth/sessions.js";
import { CANARY } from "./helpers.js";

describe("UserSessions", () => {
  let crm: DemoCrm;
  beforeAll(async () => {
    crm = await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken });
  });
  afterAll(async () => {
    await crm.close();
  });

  function sessions(concurrency: number): UserSessions {
    const config = loadConfig({ ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_ACCOUNTS_URL: crm.url, ZOHO_API_DOMAIN: crm.url, ZOHO_CONCURRENCY: String(concurrency) }, { signIn: true });
    return new UserSessions(config, new Logger(false));
  }
  const signIn = (sid: string) => ({ sid, acc: crm.url, api: crm.url, zohoAccessToken: crm.issueAccessToken(), zohoExpiresAt: Date.now() + 3_600_000 });

  it("one user holds at most half the cap; another user's request starts while the first one's queue waits", async () => {
    const s = sessions(4);
    expect(s.perUser).toBe(2);
    const a = s.depsFor(signIn("user-a")).deps;
    const b = s.depsFor(signIn("user-b")).deps;
    expect(a.client.concurrency).toBe(2);
    crm.resetStats();
    crm.faults.latencyMs = 150;
    try {
      const aPath = `Leads/${DEMO.leadId}/Notes`;
      const bPath = `Accounts/${DEMO.accountId}/Notes`;
      const aCalls = Array.from({ length: 8 }, (_, i) => a.client.get(aPath, { searchParams: { fields: "Note_Title", page: 1, per_page: i + 1 } }));
      const bCall = b.client.get(bPath, { searchParams: { fields: "Note_Title" } });
      await Promise.all([...aCalls, bCall]);
    } finally {
      crm.faults.latencyMs = 0;
    }
    const requests = [...crm.stats.requests].sort((x, y) => x.startedAt - y.startedAt);
    const isA = (r: (typeof requests)[number]) => r.path.includes(`/Leads/${DEMO.leadId}/`);
    expect(requests.filter(isA)).toHaveLength(8);
    // At no moment did user A have more than 2 requests at the CRM.
    let most = 0;
    for (const r of requests.filter(isA)) {
      const overlapping = requests.filter(isA).filter((o) => o.startedAt <= r.startedAt && o.endedAt > r.startedAt).length;
      most = Math.max(most, overlapping);
    }
    expect(most).toBe(2);
    // B did not queue behind A's eight: it went out among the first three requests.
    expect(requests.findIndex((r) => !isA(r))).toBeLessThan(3);
  });

  it("each sign-in has its own client and caches; the same sign-in keeps them and takes its newer token", async () => {
    const s = sessions(4);
    const first = s.depsFor(signIn("same"));
    const newer = { ...signIn("same"), zohoExpiresAt: Date.now() + 7_200_000 };
    const again = s.depsFor(newer);
    const older = s.depsFor({ ...signIn("same"), zohoExpiresAt: Date.now() + 60_000 });
    expect(await older.tokens.get()).toBe(newer.zohoAccessToken);
    const other = s.depsFor(signIn("other"));
    expect(again.deps).toBe(first.deps);
    expect(other.deps.catalog).not.toBe(first.deps.catalog);
    expect(other.deps.fieldCatalog).not.toBe(first.deps.fieldCatalog);
    expect(other.deps.modules).not.toBe(first.deps.modules);
    expect(s.size).toBe(2);
  });
});
