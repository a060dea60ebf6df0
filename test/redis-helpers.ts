import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { CANARY, freePort, waitFor } from "./helpers.js";

export { freePort, waitFor };

/**
 * Real parts for the several-replicas tests: a redis-server of its own per test file (a free port,
 * a password, the append-only file in a temporary directory) and replicas as real processes of the
 * built bin. Debian's `redis-server` package; `.ci/run` installs it.
 */

export const REDIS_SERVER = (() => {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();

/** On CI (and wherever MCP_TEST_REQUIRE_REDIS=1) a missing redis-server fails the tests, never skips them. */
export const REDIS_REQUIRED = process.env.MCP_TEST_REQUIRE_REDIS === "1" || ["1", "true"].includes(process.env.CI ?? "");

/**
 * `describe` for the Redis tests. Without redis-server on a developer's machine they skip, and say
 * how to install it; where Redis is required they run, and startRedis fails saying it is missing.
 */
export const describeRedis: typeof describe = REDIS_SERVER || REDIS_REQUIRED ? describe : (describe.skip as typeof describe);
if (!REDIS_SERVER && !REDIS_REQUIRED) process.stderr.write("redis-server is not installed: the Redis tests skip (apt-get install -y redis-server)\n");

export const BIN = fileURLToPath(new URL("../dist/bundle/zoho-crm-related-mcp.js", import.meta.url));



/** Polls `probe` until it returns true, or fails after `ms`. Returns how long it took. */
export async function eventually(probe: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface RedisProcess {
  port: number;
  password: string;
  /** redis://:PASSWORD@127.0.0.1:PORT */
  url: string;
  dir: string;
  /** Stops it: SIGTERM writes the append-only file out first; SIGKILL is a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory: the append-only file is read back. */
  start(): Promise<void>;
  /** Everything redis-server printed. */
  log(): string;
  /** Removes the temporary directory (after stop). */
  remove(): void;
}

export async function startRedis(options: { password?: string } = {}): Promise<RedisProcess> {
  if (!REDIS_SERVER) throw new Error("redis-server is not installed (apt-get install -y redis-server): the Redis tests need a real one");
  const port = await freePort();
  const password = options.password ?? `pw-${randomBytes(12).toString("hex")}`;
  const dir = mkdtempSync(join(tmpdir(), "zcrm-redis-"));
  // The password goes in a file, not on the command line where `ps` shows it.
  const conf = join(dir, "redis.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `requirepass ${password}`,
      `dir ${dir}`,
      "appendonly yes",
      // Every write on disk before its answer: the restart test kills Redis right after a revocation.
      "appendfsync always",
      'save ""',
      "maxmemory-policy noeviction",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  let child: ChildProcess | undefined;
  let output = "";
  const start = async () => {
    const mark = output.length;
    child = spawn(REDIS_SERVER, [conf], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    await waitFor(() => output.slice(mark), /Ready to accept connections/, 10_000);
  };
  await start();
  return {
    port,
    password,
    url: `redis://:${password}@127.0.0.1:${port}`,
    dir,
    async stop(signal = "SIGTERM") {
      const running = child;
      if (!running || running.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once("exit", () => resolve());
        running.kill(signal);
      });
    },
    start,
    log: () => output,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Replica {
  port: number;
  origin: string;
  mcpUrl: string;
  /** Everything the replica wrote to stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * One replica: the built bin, `--http --oauth`, against the demo CRM at `crmUrl` (its accounts
 * server signs the demo users in). Every replica of a test shares `publicUrl` and `secret`.
 */
export async function startReplica(options: { port?: number; publicUrl: string; secret: string; crmUrl: string; redisUrl?: string; env?: Record<string, string> }): Promise<Replica> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [BIN, "--http", "--oauth", "--port", String(port)], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      MCP_PUBLIC_URL: options.publicUrl,
      MCP_OAUTH_SECRET: options.secret,
      ZOHO_CLIENT_ID: CANARY.clientId,
      ZOHO_CLIENT_SECRET: CANARY.clientSecret,
      ZOHO_ACCOUNTS_URL: options.crmUrl,
      ZOHO_API_DOMAIN: options.crmUrl,
      ...(options.redisUrl ? { MCP_REDIS_URL: options.redisUrl } : {}),
      ...options.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await Promise.race([
    waitFor(() => stderr, /listening on http:\/\/127\.0\.0\.1:\d+\/mcp/, 15_000),
    exited.then(() => {
      throw new Error(`replica exited before listening:\n${stderr}`);
    }),
  ]);
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    mcpUrl: `${origin}/mcp`,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A fresh MCP_OAUTH_SECRET, as `openssl rand -base64 32` makes one. */
export function oauthSecret(): string {
  return randomBytes(32).toString("base64");
}
