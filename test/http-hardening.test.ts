import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type HttpServerHandle } from "../src/transports/http.js";
import { startHarness, waitFor, type Harness } from "./helpers.js";
import { startSignInServer, type SignInServer } from "./oauth-helpers.js";

/**
 * The HTTP side of the second review (issue 17): bounded discard after early refusals (finding
 * 8), Host derived from MCP_PUBLIC_URL on any bind (11), a loopback page's Origin on a loopback
 * server (the conformance suite's dns-rebinding-protection), and token mode's answer at the OAuth
 * paths, as mcp-remote prints it.
 */

const TOKEN = "3f9c1d7e5a2b8c4f6e0d9a1b7c3e5f2a";
const BIN = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const MCP_REMOTE = fileURLToPath(new URL("../node_modules/mcp-remote/dist/proxy.js", import.meta.url));
const MiB = 1024 * 1024;

/**
 * Sends a POST declaring `total` bytes and writes all of them, whatever comes back, as an attacker
 * (or a raw socket) would: a raw TCP connection, 1 MiB at a time. Says the status line the server
 * answered, how much the client handed its socket, and whether the server cut the connection.
 */
function upload(url: string, headers: Record<string, string>, total: number, chunked = false): Promise<{ status: number | undefined; written: number; cut: boolean }> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname);
    let written = 0;
    let cut = false;
    let answer = "";
    socket.on("data", (data: Buffer) => (answer += data.toString("latin1")));
    socket.on("error", () => (cut = true));
    socket.on("close", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]) || undefined, written, cut }));
    const length = chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(total) };
    const head = Object.entries({ host: target.host, ...length, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    socket.write(`POST ${target.pathname} HTTP/1.1\r\n${head}\r\n`);
    // Chunked: no length to refuse up front, only the bytes as they come. (The framing is not counted in `written`.)
    const chunk = chunked ? Buffer.concat([Buffer.from(`${MiB.toString(16)}\r\n`), Buffer.alloc(MiB, 0x61), Buffer.from("\r\n")]) : Buffer.alloc(MiB, 0x20);
    const pump = (): void => {
      while (written < total && !socket.destroyed) {
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      // All sent and the answer read: the client closes, as a finished one would.
      if (!socket.destroyed) socket.end(chunked ? "0\r\n\r\n" : "");
    };
    pump();
  });
}


describe("finding 8: after an early refusal the rest of the body is read within bounds", () => {
  let harness: Harness;
  let http: HttpServerHandle;
  let signIn: SignInServer;
  beforeAll(async () => {
    harness = await startHarness();
    http = await startHttpServer(harness.deps, { host: "127.0.0.1", port: 0, token: TOKEN, allowedOrigins: [] });
    signIn = await startSignInServer();
  });
  afterAll(async () => {
    await http.close();
    await harness.close();
    await signIn.close();
  });

  const cases: Array<[string, () => string, Record<string, string>, number]> = [
    ["401 at /mcp without a token", () => http.url, { "content-type": "application/json" }, 401],
    ["404 at an unknown path", () => http.url.replace("/mcp", "/nowhere"), {}, 404],
  ];
  for (const [what, url, headers, status] of cases) {
    it(`${what}: answered, then the upload is cut past 4 MiB (300 MiB declared and sent)`, async () => {
      const result = await upload(url(), headers, 300 * MiB);
      expect(result.status).toBe(status);
      expect(result.cut).toBe(true);
      // What the client handed its socket: the 4 MiB read, plus what the socket buffers held.
      expect(result.written).toBeLessThan(32 * MiB);
    }, 30_000);
  }

  // Express's parsers (ours for the forms, the SDK's JSON one for /register) read a body over
  // their limit to its end before answering 413: 4 GB to /token took 6.7 s, then a 413.
  const signInPaths: Array<[string, string]> = [
    ["/token", "application/x-www-form-urlencoded"],
    ["/revoke", "application/x-www-form-urlencoded"],
    ["/oauth/consent", "application/x-www-form-urlencoded"],
    ["/authorize", "application/x-www-form-urlencoded"],
    ["/register", "application/json"],
  ];
  for (const [path, type] of signInPaths) {
    it(`${path}: a declared length over 64 KiB is answered 413 before any of it is read, then cut (300 MiB declared and sent)`, async () => {
      const result = await upload(`${signIn.origin}${path}`, { "content-type": type }, 300 * MiB);
      expect(result.status).toBe(413);
      expect(result.cut).toBe(true);
      expect(result.written).toBeLessThan(32 * MiB);
    }, 30_000);
    it(`${path}: a chunked body is cut past the fixed cap (300 MiB sent)`, async () => {
      const result = await upload(`${signIn.origin}${path}`, { "content-type": type }, 300 * MiB, true);
      expect(result.cut).toBe(true);
      expect(result.written).toBeLessThan(32 * MiB);
    }, 30_000);
  }

  it("a sign-in body within the limit is still parsed and answered (/token, chunked)", async () => {
    const form = "grant_type=refresh_token&client_id=nobody&refresh_token=x";
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${signIn.origin}/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write(form.slice(0, 20));
      req.end(form.slice(20));
    });
    // Parsed: the SDK's handler knows what was sent (an unknown client), not a parse failure.
    expect(answer).toEqual({ status: 400, body: JSON.stringify({ error: "invalid_client", error_description: "Invalid client_id" }) });
  });

  it("a body within the cap still reaches the answer whole (1 MiB after a 401)", async () => {
    const result = await upload(http.url, { "content-type": "application/json" }, MiB);
    expect(result).toEqual({ status: 401, written: MiB, cut: false });
  });
});

describe("Origin on a loopback server (conformance: dns-rebinding-protection)", () => {
  let harness: Harness;
  let http: HttpServerHandle;
  beforeAll(async () => {
    harness = await startHarness();
    http = await startHttpServer(harness.deps, { host: "127.0.0.1", port: 0, token: undefined, allowedOrigins: [] });
  });
  afterAll(async () => {
    await http.close();
    await harness.close();
  });

  const initialize = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
  function post(host: string, origin: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(http.url, { method: "POST", headers: { host, origin, "content-type": "application/json", accept: "application/json, text/event-stream" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(initialize);
    });
  }

  it("a page on this machine is served; a rebinding page (its own Host and Origin) is refused", async () => {
    const self = `127.0.0.1:${http.port}`;
    expect(await post(self, `http://${self}`)).toBe(200);
    expect(await post(`localhost:${http.port}`, `http://localhost:${http.port}`)).toBe(200);
    expect(await post(self, "http://localhost:5173")).toBe(200);
    expect(await post("evil.example.com", "http://evil.example.com")).toBe(403);
    expect(await post(self, "http://evil.example.com")).toBe(403);
    expect(await post(self, "http://127.0.0.1.evil.example")).toBe(403);
  });
});

describe("finding 11: with --oauth on a non-loopback bind, Host must be MCP_PUBLIC_URL's", () => {
  let server: ChildProcess;
  let stderr = "";
  let port = 0;
  beforeAll(async () => {
    // Bound to every interface as a deployment would be; the test only ever sends to 127.0.0.1.
    server = spawn(process.execPath, [BIN, "--demo", "--http", "--oauth", "--host", "0.0.0.0", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", MCP_PUBLIC_URL: "https://crm-mcp.example.com" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    port = Number((await waitFor(() => stderr, /listening on http:\/\/0\.0\.0\.0:(\d+)\/mcp/, 30_000))[1]);
  }, 30_000);
  afterAll(() => {
    server?.kill("SIGTERM");
  });

  function register(host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(`http://127.0.0.1:${port}/register`, { method: "POST", headers: { host, "content-type": "application/json" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(JSON.stringify({ redirect_uris: ["http://127.0.0.1:5555/cb"], token_endpoint_auth_method: "none" }));
    });
  }

  it("a rebinding name (or the bare address) is refused at /register; the public name is served", async () => {
    expect(await register("rebind.attacker.example")).toBe(403);
    expect(await register(`10.1.2.3:${port}`)).toBe(403);
    expect(await register("crm-mcp.example.com")).toBe(201);
  });
});

describe("token mode at the OAuth paths, as mcp-remote prints it", () => {
  let server: ChildProcess;
  let stderr = "";
  let mcpUrl = "";
  const configDir = mkdtempSync(join(tmpdir(), "mcp-remote-token-"));
  beforeAll(async () => {
    server = spawn(process.execPath, [BIN, "--demo", "--http", "--port", "0"], { env: { PATH: process.env.PATH ?? "", MCP_HTTP_TOKEN: TOKEN }, stdio: ["ignore", "pipe", "pipe"] });
    server.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    mcpUrl = (await waitFor(() => stderr, /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/, 30_000))[1]!;
  }, 30_000);
  afterAll(() => {
    server?.kill("SIGTERM");
    rmSync(configDir, { recursive: true, force: true });
  });

  it("mcp-remote without the header is told that the server takes Authorization: Bearer and offers no sign-in", async () => {
    const bridge = spawn(process.execPath, [MCP_REMOTE, mcpUrl], {
      env: { PATH: "/usr/bin:/bin", HOME: configDir, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: "/bin/true" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let bridgeErr = "";
    bridge.stderr.on("data", (chunk: Buffer) => (bridgeErr += chunk.toString("utf8")));
    bridge.stdout.resume();
    try {
      bridge.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } })}\n`);
      const line = (await waitFor(() => bridgeErr, /Dynamic Client Registration rejected[^\n]*/, 45_000))[0];
      expect(line).toBe(
        'Dynamic Client Registration rejected (HTTP 400): {"error":"invalid_request","error_description":"this server expects Authorization: Bearer <token>, the MCP_HTTP_TOKEN it was started with; it offers no OAuth sign-in"}',
      );
    } finally {
      bridge.kill("SIGTERM");
    }
  }, 60_000);
});
