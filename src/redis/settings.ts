import { TemporarilyUnavailableError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { ConfigError } from "../config.js";
import { registerSecret } from "../log.js";

/**
 * MCP_REDIS_URL: where several replicas keep what must hold across them (src/redis/index.ts). This
 * file is only the setting and its error: it loads no Redis client, so reading the setting costs a
 * process that never uses Redis nothing.
 */
export interface RedisSettings {
  /** The URL as given: what the client connects with. Never printed (it may hold the password). */
  url: string;
  /** The URL without its password (and user), for logs and `doctor`. */
  display: string;
  tls: boolean;
}

/** Every key and channel this server writes starts with this (see docs/remote-oauth.md#several-replicas). */
export const KEY_PREFIX = "zcrm-mcp:";

export function loadRedisSettings(env: NodeJS.ProcessEnv): RedisSettings | undefined {
  const raw = env.MCP_REDIS_URL?.trim();
  if (!raw) return undefined;
  // The value is never echoed back: it may hold the password.
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || !/^rediss?:$/.test(url.protocol) || !url.hostname) {
    throw new ConfigError("MCP_REDIS_URL must be redis://[user:password@]host[:port][/db] or rediss:// (TLS), e.g. redis://:PASSWORD@redis.internal:6379/0");
  }
  // Registered before any refusal below: none of them echoes the value, and nothing else may.
  for (const secret of [url.password, safeDecode(url.password), url.username ? `${url.username}:${url.password}` : ""]) registerSecret(secret);
  if (url.pathname.replace(/^\//, "") !== "" && !/^\/\d{1,2}$/.test(url.pathname)) {
    throw new ConfigError("MCP_REDIS_URL: the path may only be a database number, e.g. redis://redis.internal:6379/0");
  }
  // ioredis takes options from the query (?password=, ?db=, ?tls=...): settings that would bypass
  // the checks here and the password's redaction. One way to say each thing: the URL's own parts.
  if (url.search || url.hash) {
    throw new ConfigError("MCP_REDIS_URL must not carry a ?query or #fragment: give the password and database in the URL itself, redis://:PASSWORD@host:6379/0");
  }
  // ioredis decodes the user name and password itself and would stop the process with a bare
  // "URI malformed" on a stray %.
  if (safeDecode(url.username) === undefined || safeDecode(url.password) === undefined) {
    throw new ConfigError("MCP_REDIS_URL: the user name or password is not valid percent-encoding; write a reserved character in it as %XX, e.g. % as %25, @ as %40, / as %2F");
  }
  const display = `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  return { url: raw, display, tls: url.protocol === "rediss:" };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Redis could not be asked (down, unreachable, refused our password, out of memory): whatever
 * needed it is refused, never let through unchecked. An OAuth error (temporarily_unavailable), so
 * the SDK's handlers answer it as one; /mcp and the sign-in endpoints answer 503 with Retry-After.
 */
export class SharedStateUnavailable extends TemporarilyUnavailableError {
  /** Seconds a client should wait before trying again. */
  static readonly retryAfterSeconds = 5;
  /** The one wording of an outage, wherever it is answered (/mcp, the sign-in endpoints). */
  static readonly description = "the server cannot check sign-ins right now (its shared state, Redis, is unreachable): try again shortly";
  constructor(readonly reason: string) {
    super(SharedStateUnavailable.description);
  }
}
