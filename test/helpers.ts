import { createServer } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { expect } from "vitest";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult, LoggingMessageNotification } from "@modelcontextprotocol/sdk/types.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { loadConfig, secretsOf, type Config } from "../src/config.js";
import { startDemoCrm, type DemoCrm, type DemoCrmOptions } from "../src/demo/crm.js";
import { Logger, registerSecret } from "../src/log.js";
import { buildServer, createDeps } from "../src/server.js";
import type { ToolDeps } from "../src/tools/types.js";

/** Recognisable fake secrets: any test may assert that none of them ever leaves the server. */
export const CANARY = {
  clientId: "1000.CANARYCLIENTID0001",
  clientSecret: "canary-client-secret-5f1d2c3b4a69",
  refreshToken: "1000.canary-refresh-token.0f9e8d7c6b5a4",
};

/** The values that must never leave the server: the canary secrets (the client id is not one). */
export const CANARY_SECRETS = [CANARY.clientSecret, CANARY.refreshToken];

/**
 * Fails if a canary secret or one of `accessTokens` (pass crm.issuedAccessTokens()) appears in
 * `text`. The failure message says which kind leaked, never the value itself.
 */
export function expectNoSecrets(text: string, accessTokens: readonly string[] = []): void {
  const leaked = [
    ...CANARY_SECRETS.filter((s) => text.includes(s)).map((s) => (s === CANARY.clientSecret ? "client secret" : "refresh token")),
    ...accessTokens.filter((t) => text.includes(t)).map(() => "an access token"),
  ];
  expect(leaked, "secrets found in output").toEqual([]);
}

export interface Harness {
  crm: DemoCrm;
  config: Config;
  deps: ToolDeps;
  client: Client;
  logs: LoggingMessageNotification["params"][];
  /** Calls a tool and returns its result (errors come back as isError results). */
  call(name: string, args: Record<string, unknown>, options?: { signal?: AbortSignal; onprogress?: (p: { progress: number; total?: number }) => void }): Promise<CallToolResult>;
  text(result: CallToolResult): string;
  /** Every text that left the server so far (the given ones plus all log notifications) is free of secrets. */
  expectNoLeaks(...texts: string[]): void;
  close(): Promise<void>;
}

/** Demo CRM on 127.0.0.1 + our server + the SDK's own Client, linked in memory. */
export async function startHarness(
  opts: { env?: Record<string, string> | ((crm: DemoCrm) => Record<string, string>); crm?: DemoCrmOptions } = {},
): Promise<Harness> {
  const crm = await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken, ...opts.crm });
  const config = loadConfig({
    ZOHO_CLIENT_ID: CANARY.clientId,
    ZOHO_CLIENT_SECRET: CANARY.clientSecret,
    ZOHO_REFRESH_TOKEN: CANARY.refreshToken,
    ZOHO_ACCOUNTS_URL: crm.url,
    // A function sees the CRM first: for settings that name its URL or a token it issued.
    ...(typeof opts.env === "function" ? opts.env(crm) : opts.env),
  });
  for (const s of secretsOf(config)) registerSecret(s);
  const deps = createDeps(config, new Logger(false));
  const server = buildServer(deps);
  const client = new Client({ name: "test-client", version: "1.0.0" });
  const logs: LoggingMessageNotification["params"][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  return {
    crm,
    config,
    deps,
    client,
    logs,
    call: async (name, args, options = {}) =>
      (await client.callTool({ name, arguments: args }, undefined, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onprogress ? { onprogress: options.onprogress } : {}),
      })) as CallToolResult,
    text: (result) => result.content.filter((c) => c.type === "text").map((c) => (c as { text: string }).text).join("\n"),
    expectNoLeaks: (...texts) => expectNoSecrets([...texts, JSON.stringify(logs)].join("\n"), crm.issuedAccessTokens()),
    close: async () => {
      await client.close();
      await server.close();
      await crm.close();
    },
  };
}

/** A port free on 127.0.0.1 right now, for a spawned server that must be told its port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

/** Polls a spawned process's output until `pattern` matches; fails after `ms` showing the output's tail. */
export function waitFor(read: () => string, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const match = pattern.exec(read());
      if (match) return resolve(match);
      if (Date.now() - started > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${pattern} in:\n${read().slice(-2000)}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}
