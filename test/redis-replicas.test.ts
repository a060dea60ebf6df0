// Several replicas, one state (MCP_REDIS_URL): two real processes of the built bin behind one
// public URL, a real redis-server with a password and an append-only file, the demo CRM with its
// accounts server, and the SDK's client signing users in. What one replica learns holds on the
// other: revocations, refresh-token rotation and replay, used codes, Zoho's concurrency. While Redis
// is away the replicas refuse with 503, and recover on their own. Needs the build (`npm test`).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { doctor } from "../src/cli/doctor.js";
import { startDemoCrm, type DemoCrm, type RecordedRequest } from "../src/demo/crm.js";
import { DEMO } from "../src/demo/seed.js";
import { CANARY } from "./helpers.js";
import { connectSignedIn } from "./oauth-helpers.js";
import { REDIRECT, mcpCall, rawCode, rawSignIn, registerClient, tokenRequest } from "./oauth-raw.js";
import { BIN, describeRedis, eventually, freePort, oauthSecret, startRedis, startReplica, type RedisProcess, type Replica } from "./redis-helpers.js";

const CONCURRENCY = 4;

describeRedis("several replicas share their state through Redis", () => {
  let redis: RedisProcess;
  let crm: DemoCrm;
  let a: Replica;
  let b: Replica;
  let publicUrl: string;
  const secret = oauthSecret();
  const extra: Replica[] = [];

  const replica = async (options: { port?: number; redisUrl?: string | null } = {}) =>
    startReplica({
      publicUrl,
      secret,
      crmUrl: crm.url,
      ...(options.port ? { port: options.port } : {}),
      ...(options.redisUrl === null ? {} : { redisUrl: options.redisUrl ?? redis.url }),
      env: { ZOHO_CONCURRENCY: String(CONCURRENCY) },
    });

  beforeAll(async () => {
    redis = await startRedis();
    crm = await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken });
    // Replica A's address is the public URL (the issuer, where Zoho sends users back); B is a second
    // replica of the same deployment, reached directly as a load balancer would.
    const portA = await freePort();
    publicUrl = `http://127.0.0.1:${portA}`;
    [a, b] = await Promise.all([replica({ port: portA }), replica()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a, b, ...extra].map((r) => r?.stop()));
    await redis?.stop();
    redis?.remove();
    await crm?.close();
  });

  const refresh = (on: Replica, clientId: string, refreshToken: string) =>
    tokenRequest(on.origin, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken, resource: `${publicUrl}/mcp` });
  const revoke = (on: Replica, clientId: string, token: string) =>
    fetch(`${on.origin}/revoke`, { method: "POST", body: new URLSearchParams({ token, client_id: clientId }) });
  const status = async (on: Replica, bearer: string) => (await mcpCall(on.mcpUrl, bearer)).status;

  it("a user signed in through one replica is served by the other", async () => {
    const { client, provider } = await connectSignedIn(`${publicUrl}/mcp`, "patricia");
    const onA = (await client.callTool({ name: "get_related_records", arguments: { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" } })) as CallToolResult;
    expect(onA.isError).toBeFalsy();
    const onB = await bearerClient(b, provider.stored!.access_token);
    const result = (await onB.callTool({ name: "get_related_records", arguments: { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" } })) as CallToolResult;
    expect(result.structuredContent).toMatchObject({ count: 7 });
    await Promise.all([client.close(), onB.close()]);
  }, 30_000);

  it("a revocation on one replica is refused on every replica within 2 seconds", async () => {
    const user = await rawSignIn(publicUrl, "ravi");
    // B has seen the token and holds its standing ("not revoked") in its short cache.
    expect(await status(b, user.access)).toBe(200);
    expect((await revoke(a, user.clientId, user.access)).status).toBe(200);
    expect(await status(a, user.access)).toBe(401);
    const took = await eventually(async () => (await status(b, user.access)) === 401, 2000, "replica B refusing the revoked access token");
    expect(took).toBeLessThan(2000);

    // Revoking the refresh token ends the whole sign-in: its refresh is refused on the other replica too.
    const other = await rawSignIn(publicUrl, "ravi");
    expect(await status(b, other.access)).toBe(200);
    expect((await revoke(b, other.clientId, other.refresh)).status).toBe(200);
    expect((await refresh(a, other.clientId, other.refresh)).body).toMatchObject({ error: "invalid_grant" });
    await eventually(async () => (await status(a, other.access)) === 401, 2000, "replica A refusing the revoked sign-in's access token");
  }, 30_000);

  it("refresh tokens rotate across replicas, and one replayed after the grace ends the sign-in everywhere", async () => {
    const user = await rawSignIn(publicUrl, "patricia");
    const first = await refresh(a, user.clientId, user.refresh);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const r1 = String(first.body.refresh_token);
    const second = await refresh(b, user.clientId, r1);
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    const r2 = String(second.body.refresh_token);
    // The grace is shared too: r1, just replaced on B, is taken once more on A (parallel refreshes).
    expect((await refresh(a, user.clientId, r1)).status).toBe(200);

    // The original token is two generations old: a copy in someone else's hands, whichever replica sees it.
    const revocationsBefore = crm.stats.revocations;
    const replay = await refresh(b, user.clientId, user.refresh);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: "invalid_grant" });
    expect(String(replay.body.error_description)).toMatch(/already used/);
    expect(crm.stats.revocations).toBe(revocationsBefore + 1); // and at Zoho
    // The newest token of the sign-in, and its access tokens, are refused on both replicas.
    expect((await refresh(a, user.clientId, r2)).body).toMatchObject({ error: "invalid_grant" });
    await eventually(async () => (await status(a, String(second.body.access_token))) === 401 && (await status(b, String(second.body.access_token))) === 401, 2000, "both replicas refusing the ended sign-in");
  }, 30_000);

  it("an authorization code is redeemed once across replicas, and a second use revokes what it issued", async () => {
    const { clientId, code, verifier } = await rawCode(publicUrl, { user: "ravi" });
    const form = { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT, resource: `${publicUrl}/mcp` };
    const once = await tokenRequest(a.origin, form);
    expect(once.status, JSON.stringify(once.body)).toBe(200);
    const again = await tokenRequest(b.origin, form);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: "invalid_grant", error_description: "authorization code already used" });
    await eventually(async () => (await status(a, String(once.body.access_token))) === 401, 2000, "the first redemption's token refused");
  }, 30_000);

  it("ZOHO_CONCURRENCY holds for the organization across replicas, each user keeping a fair share", async () => {
    // Two users, each calling both replicas at once. Alone, each replica would allow 4 in flight
    // (2 per user), 8 together; shared, the CRM sees at most 4, at most 2 of them one user's.
    const users = [
      { user: "patricia" as const, args: { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" }, path: `/Leads/${DEMO.leadId}/Notes` },
      { user: "ravi" as const, args: { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Contacts" }, path: `/Accounts/${DEMO.accountId}/Contacts` },
    ];
    const clients = await Promise.all(
      users.map(async (u) => {
        const signedIn = await rawSignIn(publicUrl, u.user);
        return Promise.all([a, b].map((on) => bearerClient(on, signedIn.access)));
      }),
    );
    // Warm each user's metadata caches on both replicas, so the burst is record requests only.
    for (const [i, pair] of clients.entries()) for (const c of pair) expect(((await c.callTool({ name: "get_related_records", arguments: users[i]!.args })) as CallToolResult).isError).toBeFalsy();

    crm.faults.latencyMs = 120;
    crm.resetStats();
    try {
      const calls = clients.flatMap((pair, i) => pair.flatMap((c) => Array.from({ length: 5 }, () => c.callTool({ name: "get_related_records", arguments: users[i]!.args }) as Promise<CallToolResult>)));
      const results = await Promise.all(calls);
      expect(results.filter((r) => r.isError).map((r) => JSON.stringify(r.content).slice(0, 200))).toEqual([]);
    } finally {
      crm.faults.latencyMs = 0;
    }
    const requests = crm.stats.requests;
    expect(requests.length).toBe(20);
    expect(crm.stats.maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    // The cap is used, not a queue of one.
    expect(crm.stats.maxInFlight).toBeGreaterThanOrEqual(CONCURRENCY - 1);
    for (const u of users) {
      const own = requests.filter((r) => r.path.endsWith(u.path));
      expect(own.length).toBe(10);
      expect(maxOverlap(own), `${u.user}'s requests in flight at once`).toBeLessThanOrEqual(CONCURRENCY / 2);
    }
    await Promise.all(clients.flat().map((c) => c.close()));
  }, 60_000);

  it("while Redis is away /mcp and /token answer 503 with Retry-After, the log says so once, and service resumes without a restart", async () => {
    const user = await rawSignIn(publicUrl, "patricia");
    expect(await status(b, user.access)).toBe(200);
    const logFrom = [a.stderr().length, b.stderr().length];
    await redis.stop("SIGTERM");
    // Past the standing cache (1 s), no token's standing can be checked: nothing is let in.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    for (const on of [a, b]) {
      for (let i = 0; i < 3; i++) {
        const answer = await mcpCall(on.mcpUrl, user.access);
        expect(answer.status).toBe(503);
        expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    }
    const token = await fetch(`${a.origin}/token`, { method: "POST", body: new URLSearchParams({ grant_type: "refresh_token", client_id: user.clientId, refresh_token: user.refresh }) });
    expect(token.status).toBe(503);
    expect(Number(token.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await token.json()).toMatchObject({ error: "temporarily_unavailable" });
    // The rate limits live in Redis too: the other sign-in endpoints refuse the same way.
    const registration = await registerClient(b.origin);
    expect(registration.status).toBe(503);
    expect(registration.headers.get("retry-after")).toBe("5");
    for (const [i, on] of [a, b].entries()) expect(on.stderr().slice(logFrom[i]).match(/Redis at \S+ is unavailable/g), "one log line for the outage").toHaveLength(1);

    await redis.start();
    const took = await eventually(async () => (await status(a, user.access)) === 200 && (await status(b, user.access)) === 200, 10_000, "both replicas serving again");
    expect(took).toBeLessThan(10_000);
    expect((await refresh(b, user.clientId, user.refresh)).status).toBe(200);
    // Logged once Redis has gone RECOVERED_AFTER_MS (5 s) without a failure.
    for (const [i, on] of [a, b].entries()) await eventually(async () => /Redis at \S+ answers again \(no failure/.test(on.stderr().slice(logFrom[i])), 8000, "the recovery logged");
  }, 50_000);

  it("a revocation made before Redis restarts still holds after it (append-only file)", async () => {
    const revoked = await rawSignIn(publicUrl, "ravi");
    const kept = await rawSignIn(publicUrl, "ravi");
    expect((await revoke(a, revoked.clientId, revoked.refresh)).status).toBe(200);
    // A crash, not a clean shutdown: what Redis acknowledged is on disk (appendfsync always).
    await redis.stop("SIGKILL");
    await redis.start();
    // A replica started after the restart has no memory of its own: what it refuses comes from Redis.
    const c = await replica();
    extra.push(c);
    await eventually(async () => (await status(c, kept.access)) === 200, 10_000, "the new replica serving the sign-in that was kept");
    expect(await status(c, revoked.access)).toBe(401);
    expect((await refresh(c, revoked.clientId, revoked.refresh)).body).toMatchObject({ error: "invalid_grant" });
  }, 40_000);

  it("the Redis password is in no log line, error or doctor output", async () => {
    const wrong = `redis://:not-the-${redis.password}@127.0.0.1:${redis.port}`;
    const d = await replica({ redisUrl: wrong });
    extra.push(d);
    const user = await rawSignIn(publicUrl, "patricia");
    // A replica that Redis refuses lets nobody in, and says why without the password.
    const answer = await mcpCall(d.mcpUrl, user.access);
    expect(answer.status).toBe(503);
    expect(await answer.text()).not.toContain(redis.password);
    expect(d.stderr()).toMatch(/WRONGPASS/);

    let out = "";
    expect(await doctor(["--demo"], { MCP_REDIS_URL: redis.url }, (t) => void (out += t))).toBe(0);
    expect(out).toMatch(new RegExp(`✓ Redis: redis://127\\.0\\.0\\.1:${redis.port} answers PING in [\\d.]+ ms`));
    let bad = "";
    expect(await doctor(["--demo"], { MCP_REDIS_URL: wrong }, (t) => void (bad += t))).toBe(1);
    expect(bad).toMatch(/✗ Redis: redis:\/\/127\.0\.0\.1:\d+ does not answer \(WRONGPASS/);

    for (const text of [a.stderr(), b.stderr(), ...extra.map((r) => r.stderr()), out, bad]) {
      expect(text).not.toContain(redis.password);
    }
  }, 40_000);

  it("self-client servers over stdio share ZOHO_CONCURRENCY through MCP_REDIS_URL too", async () => {
    // Two desktop users' servers of one organization, each allowed 2 in flight: 2 together, not 4.
    const servers = await Promise.all(
      [1, 2].map(async () => {
        const client = new Client({ name: "stdio-replica-test", version: "1.0.0" });
        const env = { PATH: process.env.PATH ?? "", ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken, ZOHO_ACCOUNTS_URL: crm.url, ZOHO_API_DOMAIN: crm.url, ZOHO_CONCURRENCY: "2", MCP_REDIS_URL: redis.url };
        await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN], env, stderr: "pipe" }));
        return client;
      }),
    );
    const args = { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" };
    for (const s of servers) expect(((await s.callTool({ name: "get_related_records", arguments: args })) as CallToolResult).isError).toBeFalsy();
    crm.faults.latencyMs = 100;
    crm.resetStats();
    try {
      const results = await Promise.all(servers.flatMap((s) => Array.from({ length: 4 }, () => s.callTool({ name: "get_related_records", arguments: args }) as Promise<CallToolResult>)));
      expect(results.filter((r) => r.isError)).toEqual([]);
    } finally {
      crm.faults.latencyMs = 0;
    }
    expect(crm.stats.requests.length).toBe(8);
    expect(crm.stats.maxInFlight).toBe(2);
    await Promise.all(servers.map((s) => s.close()));
  }, 30_000);

  it("without MCP_REDIS_URL a --oauth replica says at start that several replicas need it", async () => {
    const alone = await replica({ redisUrl: null });
    extra.push(alone);
    expect(alone.stderr()).toMatch(/several replicas need MCP_REDIS_URL/);
    expect(a.stderr()).not.toMatch(/several replicas need MCP_REDIS_URL/);
    expect(a.stderr()).toMatch(/shared state in Redis at redis:\/\/127\.0\.0\.1:\d+/);
  }, 30_000);
});

/** The SDK's client on one replica with a bearer token, as a client behind a load balancer would land there. */
async function bearerClient(on: Replica, accessToken: string): Promise<Client> {
  const client = new Client({ name: "replica-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(on.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } }));
  return client;
}

/** Most of `requests` the CRM was answering at one moment, from their arrival and end times. */
function maxOverlap(requests: RecordedRequest[]): number {
  const events = requests.flatMap((r) => [[r.startedAt, 1], [r.endedAt, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (now += delta));
  return most;
}
