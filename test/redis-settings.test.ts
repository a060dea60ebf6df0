// MCP_REDIS_URL as the server reads it: every refusal names the setting and never echoes the value
// (it may hold the password), checked on the function and on the real bin; and a database number
// the Redis does not have is refused, not served from database 0 (a real redis-server).
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctor } from "../src/cli/doctor.js";
import { ConfigError } from "../src/config.js";
import { Logger } from "../src/log.js";
import { openSharedState } from "../src/redis/index.js";
import { loadRedisSettings } from "../src/redis/settings.js";
import { BIN, describeRedis, startRedis, type RedisProcess } from "./redis-helpers.js";

const PASSWORD = "Zq7-redis-password-canary";

describe("MCP_REDIS_URL is refused clearly, without its value", () => {
  const refused: Array<[string, string, RegExp]> = [
    // ioredis decodes the password itself: a stray % stopped the process with "URI malformed".
    ["bad percent-encoding in the password", `redis://:${PASSWORD}%zz@127.0.0.1:6379/0`, /not valid percent-encoding/],
    ["a lone % in the user name", `redis://u%${PASSWORD}:x@127.0.0.1:6379`, /not valid percent-encoding/],
    // ioredis reads options from the query: ?password= and ?db= would pass by every check here.
    ["?password=", `redis://127.0.0.1:6379?password=${PASSWORD}`, /must not carry a \?query/],
    ["?db=", `redis://:${PASSWORD}@127.0.0.1:6379/0?db=3`, /must not carry a \?query/],
    ["?tls=", `redis://:${PASSWORD}@127.0.0.1:6379?tls=true`, /must not carry a \?query/],
    ["a #fragment", `redis://:${PASSWORD}@127.0.0.1:6379/0#x`, /must not carry a \?query or #fragment/],
  ];
  for (const [what, url, message] of refused) {
    it(`${what}: a configuration error naming MCP_REDIS_URL`, () => {
      let error: unknown;
      try {
        loadRedisSettings({ MCP_REDIS_URL: url });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^MCP_REDIS_URL/);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(PASSWORD);
    });
  }

  it("the bin exits 2 with the configuration error, not a bare \"URI malformed\", and prints no password", () => {
    const run = spawnSync(process.execPath, [BIN, "--demo", "--http", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", MCP_REDIS_URL: `redis://:${PASSWORD}%zz@127.0.0.1:6379/0` },
      encoding: "utf8",
      timeout: 15_000,
    });
    expect(run.stderr).toMatch(/configuration error: MCP_REDIS_URL: the user name or password is not valid percent-encoding/);
    expect(run.stderr).not.toMatch(/URI malformed/);
    expect(run.status).toBe(2);
    expect(run.stderr + run.stdout).not.toContain(PASSWORD);
  });

  it("a well-formed URL still loads, its password percent-encoded or not", () => {
    expect(loadRedisSettings({ MCP_REDIS_URL: `redis://:${PASSWORD}%40x@127.0.0.1:6379/15` })).toMatchObject({ display: "redis://127.0.0.1:6379/15", tls: false });
    expect(loadRedisSettings({ MCP_REDIS_URL: "rediss://user:pw-plain-text@redis.internal" })).toMatchObject({ display: "rediss://redis.internal", tls: true });
  });
});

describeRedis("a database number the Redis does not have", () => {
  let redis: RedisProcess;
  beforeAll(async () => {
    redis = await startRedis();
  }, 20_000);
  afterAll(async () => {
    await redis?.stop();
    redis?.remove();
  });

  it("/99 on a Redis of 16 databases: refused and logged once saying why, never served from database 0; doctor fails saying so", async () => {
    const url = `${redis.url}/99`;
    const lines: string[] = [];
    const logger = new Logger(false);
    logger.attach((_level, line) => void lines.push(line));
    const state = await openSharedState(loadRedisSettings({ MCP_REDIS_URL: url })!, logger, { concurrency: 4, waitMs: 2000 });
    try {
      expect(state.ready).toBe(false);
      await expect(state.ping()).rejects.toMatchObject({ reason: expect.stringMatching(/MCP_REDIS_URL names database 99, which this Redis does not have/) });
      expect(lines.filter((l) => l.includes("Redis at"))).toEqual([expect.stringMatching(/^Redis at redis:\/\/127\.0\.0\.1:\d+\/99: MCP_REDIS_URL names database 99, which this Redis does not have \(ERR DB index is out of range\)\. Nothing is stored in another database/)]);
    } finally {
      await state.close();
    }
    let out = "";
    expect(await doctor(["--demo"], { MCP_REDIS_URL: url }, (t) => void (out += t))).toBe(1);
    expect(out).toMatch(/✗ Redis: redis:\/\/127\.0\.0\.1:\d+\/99 does not answer \(MCP_REDIS_URL names database 99, which this Redis does not have/);
    expect(out).not.toContain(redis.password);
    // Database 15 exists: served.
    let fine = "";
    expect(await doctor(["--demo"], { MCP_REDIS_URL: `${redis.url}/15` }, (t) => void (fine += t))).toBe(0);
    expect(fine).toMatch(/✓ Redis: redis:\/\/127\.0\.0\.1:\d+\/15 answers PING/);
  }, 30_000);
});
