import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import { SharedStateUnavailable, type RedisSettings } from "./settings.js";

/**
 * The one Redis connection of a replica (ioredis), and its standing: up or down. Every use goes
 * through `run`, which refuses at once while the connection is not ready (no offline queue, no
 * waiting on a dead server: the caller answers 503) and turns any failure into
 * SharedStateUnavailable. The log says when Redis goes away and when it is back, once each, never
 * per request. ioredis reconnects on its own, so the replica recovers without a restart.
 */
export class SharedRedis {
  private down = false;
  /** Why Redis was last found unusable, for the errors of requests refused while it is. */
  private lastReason = "not connected yet";

  private constructor(
    readonly client: Redis,
    readonly settings: RedisSettings,
    private readonly logger: Logger | undefined,
  ) {
    client.on("ready", () => this.markUp());
    // Without a listener an "error" event would end the process; the reason goes to the log once.
    client.on("error", (error: Error) => this.markDown(error.message));
    client.on("close", () => void (this.down || this.markDown("the connection closed")));
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
    if (client.status !== "ready" && !shared.down) shared.markDown("no answer at start");
    return shared;
  }

  get ready(): boolean {
    return this.client.status === "ready";
  }

  /** Runs one Redis operation, or throws SharedStateUnavailable without trying while down. */
  async run<T>(operation: (client: Redis) => Promise<T>): Promise<T> {
    if (!this.ready) throw new SharedStateUnavailable(this.lastReason);
    try {
      const result = await operation(this.client);
      this.markUp();
      return result;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.markDown(reason);
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
    this.down = true; // a deliberate close is not an outage worth a log line
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private markDown(reason: string): void {
    this.lastReason = reason;
    if (this.down) return;
    this.down = true;
    this.logger?.log("error", `Redis at ${this.settings.display} is unavailable (${reason}): /mcp, /token and the other sign-in endpoints answer 503 until it answers again`);
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.logger?.log("info", `Redis at ${this.settings.display} answers again: requests are served`);
  }
}

export function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}
