import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import { SharedStateUnavailable, type RedisSettings } from "./settings.js";

/**
 * The one Redis connection of a replica (ioredis), and its standing. Every use goes through `run`,
 * which refuses at once while the connection is not ready (no offline queue, no waiting on a dead
 * server: the caller answers 503) and turns any failure into SharedStateUnavailable. The log says
 * when an outage starts and when it is over, once each, never per request: while Redis answers some
 * commands and refuses others (out of memory: reads succeed, writes fail) the outage lasts until
 * RECOVERED_AFTER_MS pass without a failure. ioredis reconnects on its own, so the replica
 * recovers without a restart.
 */
export class SharedRedis {
  /**
   * up; failing: connected, but commands fail (out of memory, read-only, too slow), so only the
   * requests that need a failing command are refused; unreachable: no connection, everything that
   * needs Redis is refused.
   */
  private standing: "up" | "failing" | "unreachable" = "up";
  private closed = false;
  /** Redis has no database of the URL's number: ioredis would carry on in database 0. */
  private wrongDatabase = false;
  private lastFailureAt = 0;
  private recovery: NodeJS.Timeout | undefined;
  /** Why Redis was last found unusable, for the errors of requests refused while it is. */
  private lastReason = "not connected yet";

  private constructor(
    readonly client: Redis,
    readonly settings: RedisSettings,
    private readonly logger: Logger | undefined,
  ) {
    client.on("ready", () => this.answered());
    // Without a listener an "error" event would end the process; the reason goes to the log once.
    client.on("error", (error: Error) => (/DB index is out of range/.test(error.message) ? this.refuseDatabase() : this.failed(error.message)));
    // After an error that closed it, the error is the reason worth saying (WRONGPASS, ECONNREFUSED).
    client.on("close", () => (this.standing === "unreachable" ? void (this.lastFailureAt = Date.now()) : this.failed("the connection closed")));
  }

  /**
   * Connects, and waits up to `waitMs` for Redis to answer: a replica that starts while Redis is
   * away still starts (and refuses what needs Redis until it is back).
   */
  static async open(settings: RedisSettings, logger: Logger | undefined, waitMs = 3000): Promise<SharedRedis> {
    // ioredis is CommonJS: its class arrives as a named export or on `default`, depending on the loader.
    const ioredis = (await import("ioredis")) as unknown as { Redis?: typeof import("ioredis").Redis; default: { Redis?: typeof import("ioredis").Redis } };
    const Redis = ioredis.Redis ?? ioredis.default.Redis!;
    const client = new Redis(settings.url, {
      // Fail now rather than queue: a request waiting on a dead Redis would hang, not get its 503.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // A Redis that accepts the connection but never answers (paused, overloaded) counts as down.
      commandTimeout: 1000,
      connectTimeout: 2000,
      // Reconnect forever, at most a second apart: recovery needs no restart.
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
      connectionName: "zoho-crm-related-mcp",
      lazyConnect: false,
    });
    const shared = new SharedRedis(client, settings, logger);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      timer.unref();
      client.once("ready", () => (clearTimeout(timer), resolve()));
    });
    if (client.status !== "ready" && shared.standing === "up") shared.failed("no answer at start");
    return shared;
  }

  get ready(): boolean {
    return this.client.status === "ready" && !this.wrongDatabase;
  }

  /**
   * For /healthz, from what this replica already knows (no round trip): "unavailable" while there
   * is no usable connection (everything that needs Redis answers 503), "failing" while the outage
   * logged as commands failing lasts (only what needs them answers 503), else "ok".
   */
  get health(): RedisHealth {
    if (!this.ready) return "unavailable";
    return this.standing === "failing" ? "failing" : "ok";
  }

  /** Runs one Redis operation, or throws SharedStateUnavailable without trying while down. */
  async run<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    if (!this.ready) throw new SharedStateUnavailable(this.lastReason);
    try {
      const result = await operation(this.client);
      this.answered();
      return result;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.failed(reason);
      throw new SharedStateUnavailable(reason);
    }
  }

  /** Runs a Lua script by its SHA1, sending the text only when Redis does not have it (after a restart). */
  async script<T>(lua: string, keys: string[], args: Array<string | number>): Promise<T> {
    const sha = sha1(lua);
    return this.run(async (client) => {
      try {
        return (await client.evalsha(sha, keys.length, ...keys, ...args)) as T;
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        return (await client.eval(lua, keys.length, ...keys, ...args)) as T;
      }
    });
  }

  /** For `doctor`: the round trip of one PING, in milliseconds. */
  async ping(): Promise<number> {
    const started = performance.now();
    await this.run((client) => client.ping());
    return performance.now() - started;
  }

  async close(): Promise<void> {
    this.closed = true; // a deliberate close is not an outage worth a log line
    clearTimeout(this.recovery);
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private failed(reason: string): void {
    this.lastReason = reason;
    this.lastFailureAt = Date.now();
    if (this.closed) return;
    // A command refused on a live connection leaves the other commands working; no connection, none.
    const standing = this.client.status === "ready" ? "failing" : "unreachable";
    if (this.standing === standing || this.standing === "unreachable") return;
    const previous = this.standing;
    this.standing = standing;
    const where = `Redis at ${this.settings.display}`;
    if (standing === "unreachable") {
      this.logger?.log("error", `${where} is unavailable (${reason}): /mcp, /token and the other sign-in endpoints answer 503 until it answers again`);
    } else if (previous === "up") {
      this.logger?.log("error", `${where} is failing commands (${reason}): a request that needs a failing command answers 503, the others are served, until it answers again`);
    }
  }

  /**
   * The database of MCP_REDIS_URL does not exist on this Redis (its `databases`, 16 by default):
   * ioredis reports the failed SELECT and then serves database 0, where other data may live. Refused
   * for good instead, until the setting (or Redis) is fixed and the replica restarted.
   */
  private refuseDatabase(): void {
    this.lastReason = `MCP_REDIS_URL names database ${new URL(this.settings.url).pathname.slice(1)}, which this Redis does not have (ERR DB index is out of range)`;
    this.lastFailureAt = Date.now();
    if (this.wrongDatabase || this.closed) return;
    this.wrongDatabase = true;
    this.standing = "unreachable";
    this.logger?.log("error", `Redis at ${this.settings.display}: ${this.lastReason}. Nothing is stored in another database: /mcp, /token and the other sign-in endpoints answer 503 until MCP_REDIS_URL names a database Redis has (0 to its "databases" - 1) and the server is restarted`);
  }

  /** Something worked: once RECOVERED_AFTER_MS pass without a failure, the outage is over. */
  private answered(): void {
    if (this.standing === "up" || this.closed || this.recovery) return;
    const check = () => {
      this.recovery = undefined;
      if (this.standing === "up" || this.closed || !this.ready) return;
      const quiet = Date.now() - this.lastFailureAt;
      if (quiet < RECOVERED_AFTER_MS) {
        this.recovery = setTimeout(check, RECOVERED_AFTER_MS - quiet);
        this.recovery.unref();
        return;
      }
      this.standing = "up";
      this.logger?.log("info", `Redis at ${this.settings.display} answers again (no failure for ${RECOVERED_AFTER_MS / 1000} s): requests are served`);
    };
    check();
  }
}

export type RedisHealth = "ok" | "failing" | "unavailable";

/**
 * How long Redis must go without a failure before an outage is logged as over: long enough that a
 * Redis refusing every write but answering reads is one outage, not a pair of lines per request.
 */
export const RECOVERED_AFTER_MS = 5000;

export function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}
