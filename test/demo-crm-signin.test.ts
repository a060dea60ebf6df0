// The demo CRM's answers that `setup` and `doctor` rely on, against Zoho's documented shapes: a
// self-client's grant code exchanged once for the refresh token, Get Organization, Get Users
// (type=CurrentUser), Get Records' first page, each behind its own scope.
import { afterEach, describe, expect, it } from "vitest";
import { startDemoCrm, type DemoCrm, type DemoCrmOptions } from "../src/demo/crm.js";

let crm: DemoCrm | undefined;
afterEach(async () => {
  await crm?.close();
  crm = undefined;
});

async function start(options: DemoCrmOptions = {}) {
  crm = await startDemoCrm(options);
  return crm;
}

async function token(c: DemoCrm, params: Record<string, string>) {
  const response = await fetch(`${c.url}/oauth/v2/token`, { method: "POST", body: new URLSearchParams(params) });
  expect(response.status).toBe(200); // Zoho answers refusals with 200 too
  return (await response.json()) as Record<string, unknown>;
}

async function get(c: DemoCrm, path: string) {
  const access = c.issueAccessToken();
  const response = await fetch(`${c.url}/crm/v7/${path}`, { headers: { authorization: `Zoho-oauthtoken ${access}` } });
  return { status: response.status, body: response.status === 204 ? null : ((await response.json()) as Record<string, unknown>) };
}

describe("a self-client's grant code", () => {
  it("is exchanged once for the self-client's refresh token, an access token and the api_domain", async () => {
    const c = await start({ clientId: "id-1", clientSecret: "secret-1", refreshToken: "1000.refresh.one" });
    const code = c.issueGrantCode();
    const params = { grant_type: "authorization_code", client_id: "id-1", client_secret: "secret-1", code };
    const answer = await token(c, params);
    expect(answer).toMatchObject({ refresh_token: "1000.refresh.one", api_domain: c.url, token_type: "Bearer", expires_in: 3600 });
    expect(answer.access_token).toMatch(/^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/);
    expect(String(answer.scope)).toContain("ZohoCRM.org.READ");
    // Single use, like Zoho's.
    expect(await token(c, params)).toEqual({ error: "invalid_code" });
  });

  it("refuses an expired code (invalid_code) and a wrong secret (invalid_client)", async () => {
    const c = await start({ clientId: "id-1", clientSecret: "secret-1" });
    const expired = c.issueGrantCode(-1);
    expect(await token(c, { grant_type: "authorization_code", client_id: "id-1", client_secret: "secret-1", code: expired })).toEqual({ error: "invalid_code" });
    const code = c.issueGrantCode();
    expect(await token(c, { grant_type: "authorization_code", client_id: "id-1", client_secret: "wrong", code })).toEqual({ error: "invalid_client" });
  });
});

describe("org, users and records", () => {
  it("GET /org and /users?type=CurrentUser answer in Zoho's shapes", async () => {
    const c = await start();
    const org = await get(c, "org");
    expect(org.status).toBe(200);
    expect((org.body!.org as unknown[])[0]).toMatchObject({ company_name: "Zylker Demo", id: "4876876000000019001", domain_name: "demo-zylker" });
    const users = await get(c, "users?type=CurrentUser");
    expect(users.status).toBe(200);
    expect(users.body).toMatchObject({ users: [{ full_name: "Patricia Boyle", email: "patricia.boyle@zylker-demo.com", profile: { name: "Administrator" } }], info: { count: 1, more_records: false } });
  });

  it("each needs its scope: OAUTH_SCOPE_MISMATCH 401 without it", async () => {
    const c = await start({ withoutScopes: ["ZohoCRM.org.READ", "ZohoCRM.users.READ", "ZohoCRM.modules.ALL"] });
    for (const [path, scope] of [["org", "ZohoCRM.org.READ"], ["users?type=CurrentUser", "ZohoCRM.users.READ"], ["Leads?fields=id", "ZohoCRM.modules.leads.READ"]] as const) {
      const r = await get(c, path);
      expect(r.status, path).toBe(401);
      expect(r.body, path).toMatchObject({ code: "OAUTH_SCOPE_MISMATCH", details: { required_scope: scope }, status: "error" });
    }
  });

  it("Get Records: the first page by id descending; fields is required", async () => {
    const c = await start();
    const r = await get(c, "Leads?fields=id,Last_Name&per_page=1");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ data: [{ id: expect.stringMatching(/^\d+$/) }], info: { per_page: 1, count: 1, page: 1, more_records: true } });
    expect((await get(c, "Leads")).body).toMatchObject({ code: "REQUIRED_PARAM_MISSING", details: { param_name: "fields" } });
  });
});
