// Remote mode over real HTTP on 127.0.0.1, with the SDK's own StreamableHTTPClientTransport:
// in process (the harness's demo CRM and deps, so its stats can be read) and as the built bin.

import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { Logger, type LogSink } from "../src/log.js";
import { createDeps } from "../src/server.js";
import { loadHttpOptions, startHttpServer, type HttpServerHandle } from "../src/transports/http.js";
import { CANARY, startHarness, type Harness } from "./helpers.js";

const TOKEN = "http-token-canary-7d3f9a1e5b2c";
const NOTES = { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" };
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const PING = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });

async function connect(url: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): Promise<Client> {
  const client = new Client({ name: "http-test-client", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** A POST through node:http, which (unlike fetch) lets a test choose the Host header. */
function postStatus(url: string, headers: Record<string, string>, body = PING): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const countOf = (result: CallToolResult) => (result.structuredContent as { count: number }).count;

/** Counts the log sinks attached right now: one per live McpServer built on these deps. */
class CountingLogger extends Logger {
  readonly live = new Set<LogSink>();
  override attach(sink: LogSink): () => void {
    this.live.add(sink);
    const detach = super.attach(sink);
    return () => {
      this.live.delete(sink);
      detach();
    };
  }
}

describe("HTTP transport, in process", () => {
  let harness: Harness;
  let logger: CountingLogger;
  let http: HttpServerHandle;

  beforeAll(async () => {
    harness = await startHarness();
    logger = new CountingLogger(false);
    // ONE deps for every request, as src/index.ts does: one token cache, one concurrency cap.
    const deps = createDeps(harness.config, logger);
    http = await startHttpServer(deps, { host: "127.0.0.1", port: 0, token: TOKEN, allowedOrigins: ["https://app.example.com"], allowedHosts: ["mcp.example.com"] });
  });
  afterAll(async () => {
    await http.close();
    await harness.close();
  });

  it("answers tools through the SDK client", async () => {
    const client = await connect(http.url);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("get_related_records");
    const result = (await client.callTool({ name: "get_related_records", arguments: { ...NOTES, fields: ["Note_Title"] } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(countOf(result)).toBe(DEMO.leadNoteIds.length);
    await client.close();
  });

  it("a call's retries reach its caller as warning logging notifications, on the call's own stream", async () => {
    const client = await connect(http.url);
    const logs: { level: string; data: unknown }[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    harness.crm.faults.status429 = 1;
    const result = (await client.callTool({ name: "get_open_activities", arguments: { module_api_name: "Leads", record_id: DEMO.leadId } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(logs).toContainEqual(expect.objectContaining({ level: "warning", data: expect.stringMatching(/^retrying GET \/crm\/v7\/Leads\/\d+\/Activities_Chronological_View after HTTP 429/) }));
    expect(logger.live.size).toBe(0); // per-request servers attach no process-wide sink
    await client.close();
  });

  it("refuses a missing or wrong bearer token with 401", async () => {
    for (const authorization of [undefined, "Bearer wrong-token", `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await fetch(http.url, { method: "POST", headers: { ...MCP_HEADERS, ...(authorization ? { authorization } : {}) }, body: PING });
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    await expect(connect(http.url, {})).rejects.toMatchObject({ code: 401 });
  });

  it("token mode's 401 says, in WWW-Authenticate and body, that a bearer token is expected and no OAuth is offered", async () => {
    const expects = "this server expects Authorization: Bearer <token>, the MCP_HTTP_TOKEN it was started with; it offers no OAuth sign-in";
    const missing = await fetch(http.url, { method: "POST", headers: MCP_HEADERS, body: PING });
    expect(missing.headers.get("www-authenticate")).toBe(`Bearer realm="zoho-crm-related-mcp", error_description="${expects}"`);
    expect(await missing.json()).toEqual({ jsonrpc: "2.0", error: { code: -32000, message: `Unauthorized: ${expects}` }, id: null });
    const wrong = await fetch(http.url, { method: "POST", headers: { ...MCP_HEADERS, authorization: "Bearer wrong-token" }, body: PING });
    expect(wrong.headers.get("www-authenticate")).toBe(`Bearer realm="zoho-crm-related-mcp", error="invalid_token", error_description="${expects}"`);
    // A client that goes looking for OAuth metadata anyway is told the same.
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]) {
      const discovery = await fetch(http.url.replace("/mcp", path));
      expect(discovery.status).toBe(404);
      expect(await discovery.json()).toEqual({ error: "invalid_request", error_description: expects });
    }
    // And the endpoints a client falls back to without metadata, as the OAuth error it prints.
    for (const [method, path] of [["POST", "/register"], ["GET", "/authorize"], ["POST", "/token"], ["POST", "/revoke"]]) {
      const endpoint = await fetch(http.url.replace("/mcp", path!), { method, ...(method === "POST" ? { headers: { "content-type": "application/json" }, body: "{}" } : {}) });
      expect([endpoint.status, endpoint.headers.get("content-type")], path).toEqual([400, "application/json"]);
      expect(await endpoint.json()).toEqual({ error: "invalid_request", error_description: expects });
    }
  });

  it("bounds a JSON-RPC batch: at most 20 messages, and records its calls may fetch together at most ZOHO_MAX_RECORDS", async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` };
    const post = (messages: unknown[]) => fetch(http.url, { method: "POST", headers: auth, body: JSON.stringify(messages) });
    const ping = (id: number) => ({ jsonrpc: "2.0", id, method: "ping" });
    const call = (id: number, args: Record<string, unknown>) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "get_related_records", arguments: { ...NOTES, ...args } } });

    const many = await post(Array.from({ length: 21 }, (_, i) => ping(i)));
    expect(many.status).toBe(400);
    expect(await many.json()).toEqual({
      jsonrpc: "2.0",
      error: { code: -32600, message: "Invalid Request: a JSON-RPC batch may hold at most 20 messages (this one has 21); send the rest in another request" },
      id: null,
    });

    harness.crm.resetStats();
    const cap = harness.config.maxRecords;
    const heavy = await post([call(1, { max_records: cap }), call(2, { page: 1, per_page: 100 })]);
    expect(heavy.status).toBe(400);
    expect(((await heavy.json()) as { error: { code: number; message: string } }).error).toEqual({
      code: -32600,
      message: `Invalid Request: the tool calls of one batch may fetch at most ZOHO_MAX_RECORDS (${cap}) records together, as one call may; these may fetch up to ${cap + 100}. Send them in separate requests`,
    });
    expect(harness.crm.stats.crmRequests).toBe(0);

    // Within both bounds a batch is served (20 messages; 200 + 100 records).
    expect((await post(Array.from({ length: 20 }, (_, i) => ping(i)))).status).toBe(200);
    const light = await post([call(1, {}), call(2, { page: 1, per_page: 100 })]);
    expect(light.status).toBe(200);
  });

  it("a body over the limit reaches Node's own fetch as a 413, not EPIPE: answered, then the rest read and dropped", async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` };
    // 48 MB: far more than the socket buffers hold, so a server that closes early breaks the upload
    // (Node's fetch: EPIPE, at random: hence several tries).
    const big = new Uint8Array(48 * 1024 * 1024).fill(0x20);
    for (let i = 0; i < 4; i++) {
      const res = await fetch(http.url, { method: "POST", headers: auth, body: big });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe("Payload Too Large: request body must not exceed 1048576 bytes");
    }
    // Streamed, with no Content-Length: the same.
    let sent = 0;
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    const stream = new ReadableStream({ pull: (c) => (sent++ < 12 ? c.enqueue(chunk) : c.close()) });
    const streamed = await fetch(http.url, { method: "POST", headers: auth, body: stream, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
  }, 20_000);

  it("refuses a foreign Origin and a foreign Host with 403; an allowed Origin passes", async () => {
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` };
    expect((await fetch(http.url, { method: "POST", headers: { ...auth, origin: "https://evil.example" }, body: PING })).status).toBe(403);
    expect((await fetch(http.url, { method: "POST", headers: { ...auth, origin: "null" }, body: PING })).status).toBe(403);
    // fetch sets Host itself: a rebinding page's requests carry its own name, as these do.
    for (const host of ["evil.example", `evil.example:${http.port}`, "127.0.0.1", `127.0.0.1:${http.port + 1}`]) {
      expect(await postStatus(http.url, { ...auth, host }), host).toBe(403);
    }
    // MCP_ALLOWED_HOSTS: the public name a reverse proxy in front of a loopback bind forwards.
    for (const host of [`127.0.0.1:${http.port}`, `localhost:${http.port}`, `[::1]:${http.port}`, "mcp.example.com"]) expect(await postStatus(http.url, { ...auth, host }), host).toBe(200);
    expect((await fetch(http.url, { method: "POST", headers: { ...auth, origin: "https://app.example.com" }, body: PING })).status).toBe(200);
    expect((await fetch(http.url.replace("127.0.0.1", "localhost"), { method: "POST", headers: auth, body: PING })).status).toBe(200);
    await expect(connect(http.url, { authorization: `Bearer ${TOKEN}`, origin: "https://evil.example" })).rejects.toMatchObject({ code: 403 });
  });

  it("refuses a 5 MB body with 413, declared or streamed, and still serves afterwards", async () => {
    const big = "x".repeat(5 * 1024 * 1024);
    const auth = { ...MCP_HEADERS, authorization: `Bearer ${TOKEN}` };
    const declared = await fetch(http.url, { method: "POST", headers: auth, body: big });
    expect(declared.status).toBe(413);
    // No Content-Length: the transport stops reading at the cap.
    const chunks = [big.slice(0, 2 ** 20), big.slice(2 ** 20)];
    const stream = new ReadableStream({ pull: (c) => (chunks.length ? c.enqueue(new TextEncoder().encode(chunks.shift())) : c.close()) });
    const streamed = await fetch(http.url, { method: "POST", headers: auth, body: stream, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    const client = await connect(http.url);
    expect(countOf((await client.callTool({ name: "get_related_records", arguments: NOTES })) as CallToolResult)).toBe(DEMO.leadNoteIds.length);
    await client.close();
  });

  it("serves /healthz without a token, 404 elsewhere, 405 for GET /mcp (stateless: no stream to resume)", async () => {
    const health = await fetch(http.url.replace("/mcp", "/healthz"));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", name: "zoho-crm-related-mcp" });
    expect((await fetch(http.url.replace("/mcp", "/other"))).status).toBe(404);
    expect((await fetch(http.url, { headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" } })).status).toBe(405);
  });

  it("answers 50 concurrent clients, all through one token and one concurrency cap", async () => {
    harness.crm.resetStats();
    const results = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const client = await connect(http.url);
        const result = (await client.callTool({ name: "get_open_activities", arguments: { module_api_name: "Leads", record_id: DEMO.leadId } })) as CallToolResult;
        await client.close();
        return result;
      }),
    );
    expect(results.filter((r) => !r.isError && countOf(r) === 4)).toHaveLength(50);
    expect(harness.crm.stats.maxInFlight).toBeLessThanOrEqual(harness.config.concurrency);
    expect(harness.crm.stats.tokenRequests).toBe(0); // the token from the first test is still cached
    // Every per-request McpServer detached its log sink when its response closed.
    await vi.waitFor(() => expect(logger.live.size).toBe(0));
  }, 60_000); // 200 HTTP requests: generous for a machine shared with other test runs

  it("close() stops accepting at once, lets the in-flight call finish, then resolves", async () => {
    harness.crm.faults.latencyMs = 100;
    const client = await connect(http.url);
    let closed: Promise<void> | undefined;
    // Four pages of two notes: the first progress notification proves the call is in flight.
    const call = client.callTool({ name: "get_related_records", arguments: { ...NOTES, per_page: 2, max_records: 7 } }, undefined, {
      onprogress: () => void (closed ??= http.close()),
    }) as Promise<CallToolResult>;
    await vi.waitFor(() => expect(closed).toBeDefined(), { timeout: 10_000 });
    await expect(fetch(http.url.replace("/mcp", "/healthz"))).rejects.toThrow();
    expect(countOf(await call)).toBe(7);
    await closed;
    expect(http.inFlight()).toBe(0);
    harness.crm.faults.latencyMs = 0;
    await client.close();
  });
});

describe("HTTP options", () => {
  it("refuses a non-loopback bind without MCP_HTTP_TOKEN, naming the variable", () => {
    expect(() => loadHttpOptions({ host: "0.0.0.0" }, {})).toThrow(/MCP_HTTP_TOKEN/);
    expect(() => loadHttpOptions({ host: "192.168.1.20" }, { MCP_HTTP_TOKEN: " " })).toThrow(/MCP_HTTP_TOKEN/);
    expect(loadHttpOptions({ host: "0.0.0.0" }, { MCP_HTTP_TOKEN: TOKEN }).token).toBe(TOKEN);
    expect(() => loadHttpOptions({ host: "0.0.0.0" }, { MCP_HTTP_TOKEN: "short-secret" })).toThrow(/MCP_HTTP_TOKEN must be at least 16 characters/);
    for (const host of ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"]) expect(loadHttpOptions({ host }, {}).host).toBe(host);
  });

  it("defaults to 127.0.0.1:3000, checks --port, normalises MCP_ALLOWED_ORIGINS", () => {
    expect(loadHttpOptions({}, {})).toMatchObject({ host: "127.0.0.1", port: 3000, token: undefined, allowedOrigins: [], allowedHosts: [] });
    for (const port of ["-1", "65536", "3e3", "abc", ""]) expect(() => loadHttpOptions({ port }, {}), port).toThrow(/--port/);
    expect(loadHttpOptions({ port: "0" }, { MCP_ALLOWED_ORIGINS: "https://a.example.com/, http://localhost:5173" }).allowedOrigins).toEqual([
      "https://a.example.com",
      "http://localhost:5173",
    ]);
    for (const bad of ["not an origin", "app.example.com:443", "null"]) expect(() => loadHttpOptions({}, { MCP_ALLOWED_ORIGINS: bad }), bad).toThrow(/MCP_ALLOWED_ORIGINS/);
    expect(loadHttpOptions({}, { MCP_ALLOWED_HOSTS: "MCP.example.com, mcp.example.com:8443" }).allowedHosts).toEqual(["mcp.example.com", "mcp.example.com:8443"]);
  });
});

// ---------------------------------------------------------------------------------------------

interface Bin {
  proc: ChildProcess;
  url: Promise<string>;
  stderr(): string;
  exit: Promise<number | null>;
}

function startBin(args: string[], env: Record<string, string> = {}): Bin {
  const proc = spawn(process.execPath, ["dist/index.js", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  const url = new Promise<string>((resolve, reject) => {
    proc.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /^listening on (http:\/\/\S+)$/m.exec(stderr);
      if (m) resolve(m[1]!);
    });
    proc.once("exit", () => reject(new Error(`exited before listening: ${stderr}`)));
  });
  url.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, url, stderr: () => stderr, exit };
}

describe("the built bin with --http", () => {
  const started: Bin[] = [];
  afterAll(() => {
    for (const bin of started) if (bin.proc.exitCode === null) bin.proc.kill("SIGKILL");
  });

  it("serves the demo, drains an in-flight call on SIGTERM, exits 0, and leaks no secret on stderr", async () => {
    const bin = startBin(["--http", "--port", "0", "--demo"], { MCP_HTTP_TOKEN: TOKEN, ZOHO_DEMO_LATENCY_MS: "100", ZOHO_MCP_QUIET: "0" });
    started.push(bin);
    const url = await bin.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = await connect(url);
    let signalled = false;
    const call = client.callTool({ name: "get_related_records", arguments: { ...NOTES, per_page: 2, max_records: 7 } }, undefined, {
      onprogress: () => {
        if (!signalled) signalled = bin.proc.kill("SIGTERM");
      },
    }) as Promise<CallToolResult>;
    const result = await call;
    expect(signalled).toBe(true);
    expect(countOf(result)).toBe(7);
    expect(await bin.exit).toBe(0);
    await client.close();

    const stderr = bin.stderr();
    expect(stderr.match(/^listening on /gm)).toHaveLength(1);
    for (const secret of [TOKEN, "demo-client-secret", "demo-refresh-token", CANARY.clientSecret]) expect(stderr).not.toContain(secret);
    expect(stderr).not.toMatch(/1000\.[0-9a-f]{32}\.[0-9a-f]{32}/); // the demo CRM's access tokens
  });

  it("refuses to bind 0.0.0.0 without MCP_HTTP_TOKEN: exit 2, with the reason", async () => {
    const bin = startBin(["--http", "--host", "0.0.0.0", "--port", "0", "--demo"], { MCP_HTTP_TOKEN: "" });
    started.push(bin);
    expect(await bin.exit).toBe(2);
    expect(bin.stderr()).toMatch(/refusing to serve on 0\.0\.0\.0 without MCP_HTTP_TOKEN/);
    expect(bin.stderr()).not.toMatch(/listening on/);
  });

  it("refuses --port without --http, exit 2", async () => {
    const bin = startBin(["--port", "3000"]);
    started.push(bin);
    expect(await bin.exit).toBe(2);
    expect(bin.stderr()).toMatch(/--port and --host need --http/);
  });
});
