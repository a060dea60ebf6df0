import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Logging and redaction. stdout belongs to JSON-RPC, so logs go to stderr and, once a server is
 * attached, to the client as MCP logging notifications. Everything passes through redact():
 * secrets are registered as soon as they are known (config, each new access token).
 */
export type Level = "debug" | "info" | "warning" | "error";

const secrets = new Set<string>();
/**
 * Access tokens come and go (a new one every hour for as long as the process runs): only the
 * newest are kept, since an expired one is worthless, and every log line is checked against each.
 */
const accessTokens = new Set<string>();
export const MAX_REMEMBERED_ACCESS_TOKENS = 32;
let accessTokenMemory = MAX_REMEMBERED_ACCESS_TOKENS;

/** Per-user sign-in holds one live Zoho token per signed-in user: remember at least that many. */
export function rememberAccessTokens(count: number): void {
  accessTokenMemory = Math.max(accessTokenMemory, count);
}

/** `kind`: "access-token" for short-lived tokens (bounded memory), else kept for the process's life. */
export function registerSecret(value: string | undefined, kind: "secret" | "access-token" = "secret"): void {
  // Short values would redact ordinary words; real Zoho secrets are long.
  if (!value || value.length < 8) return;
  if (kind === "secret") return void secrets.add(value);
  accessTokens.delete(value);
  accessTokens.add(value);
  // A Set iterates in insertion order: the first one is the oldest.
  if (accessTokens.size > accessTokenMemory) accessTokens.delete(accessTokens.values().next().value!);
}

export function redact(text: string): string {
  let out = text;
  for (const s of [...secrets, ...accessTokens]) if (out.includes(s)) out = out.split(s).join("[redacted]");
  return out;
}

/** How many values redact() checks (for the test that the count stays bounded). */
export function rememberedSecretCount(): number {
  return secrets.size + accessTokens.size;
}

export type LogSink = (level: Level, message: string) => void;

export class Logger {
  private readonly sinks = new Set<LogSink>();
  /** The sink of the tool call whose work is logging, if it has one (see during()). */
  private readonly callSink = new AsyncLocalStorage<LogSink>();
  constructor(private readonly stderr = process.env.ZOHO_MCP_QUIET !== "1") {}

  /** Adds a destination (an MCP server's logging notifications); returns its remover. */
  attach(sink: LogSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /**
   * Runs `work` with its own destination for what it logs (retries, refreshes, limits): the
   * stream of the request that caused them, which is the only way a stateless HTTP client hears.
   */
  during<T>(sink: LogSink, work: () => Promise<T>): Promise<T> {
    return this.callSink.run(sink, work);
  }

  log(level: Level, message: string): void {
    const line = redact(message);
    if (this.stderr || level === "error") process.stderr.write(`[zoho-crm-related-mcp] ${level}: ${line}\n`);
    const callSink = this.callSink.getStore();
    if (callSink) return callSink(level, line);
    for (const sink of this.sinks) sink(level, line);
  }
}
