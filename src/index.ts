#!/usr/bin/env node
import { parseArgs } from "node:util";
import { ConfigError, demoRequested, loadConfig, secretsOf, type Config } from "./config.js";
import { Logger, redact, registerSecret } from "./log.js";
import { SERVER_VERSION, createDeps } from "./server.js";
import type { HttpOptions } from "./transports/http.js";

const USAGE = `zoho-crm-related-mcp ${SERVER_VERSION}: MCP server for Zoho CRM related records

  zoho-crm-related-mcp                        serve MCP over stdio (settings from ZOHO_* environment variables)
  zoho-crm-related-mcp --http [--port N] [--host H]
                                              serve MCP over Streamable HTTP at http://H:N/mcp
                                              (defaults 127.0.0.1 and 3000; MCP_HTTP_TOKEN, MCP_ALLOWED_ORIGINS)
  --http --oauth                              per-user sign-in: each user signs in with their own Zoho account
                                              (MCP_PUBLIC_URL, MCP_OAUTH_SECRET, ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET;
                                              several replicas share their state through MCP_REDIS_URL)
  --demo                                      serve against the built-in demo CRM (no Zoho account)
  zoho-crm-related-mcp setup [--demo | --help]
                                              sign in to Zoho (a self-client) and add the server to a client's configuration
                                              (--demo: the same steps against the demo CRM, no Zoho account)
  zoho-crm-related-mcp doctor [--demo | --client NAME]
                                              check the configuration (or a client's entry), one line per check
                                              (exit 0: all required pass)
  --help, --version                           print this help or the version, and exit
`;

/**
 * Set by scripts/build.mjs: true in the published bin, which holds the stdio server (and the demo
 * CRM) in one file; --http, setup and doctor live in full/ beside it. Undefined in tsc's dist/.
 */
declare const __STDIO_BIN__: boolean | undefined;
const STDIO_BIN = typeof __STDIO_BIN__ === "boolean" && __STDIO_BIN__;

async function main(): Promise<void> {
  // Subcommands do not serve MCP (their stdout is theirs), and load only when asked for.
  const [command, ...rest] = process.argv.slice(2);
  // MCP_REDIS_URL too: the Redis client (src/redis/) is not in the stdio bin, whose every start would parse it.
  const redis = Boolean(process.env.MCP_REDIS_URL?.trim());
  if (STDIO_BIN && (command === "setup" || command === "doctor" || process.argv.slice(2).includes("--http") || redis)) {
    // Before anything runs here: the whole program in full/ takes over this process (its own modules).
    const full = "./full/zoho-crm-related-mcp.js";
    try {
      return void (await import(full));
    } catch (error) {
      if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND" || !String((error as Error).message).includes(full.slice(2))) throw error;
      exit(2, `${command === "setup" || command === "doctor" ? command : process.argv.slice(2).includes("--http") ? "--http" : "MCP_REDIS_URL"} needs the full/ folder beside this file: copy the whole dist/bundle/ folder (this file alone serves stdio and --demo)`);
    }
  }
  if (command === "doctor") return void (process.exitCode = await (await import("./cli/doctor.js")).doctor(rest));
  if (command === "setup") return void (process.exitCode = await (await import("./cli/setup.js")).setup(rest));
  let flags;
  try {
    flags = parseArgs({
      options: {
        demo: { type: "boolean" },
        http: { type: "boolean" },
        oauth: { type: "boolean" },
        port: { type: "string" },
        host: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    }).values;
  } catch (error) {
    exit(2, `${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  // --help and --version do not serve, so they answer on stdout like any CLI; serving keeps stdout for JSON-RPC.
  if (flags.help) return void process.stdout.write(USAGE);
  if (flags.version) return void process.stdout.write(`${SERVER_VERSION}\n`);
  if (!flags.http && (flags.port !== undefined || flags.host !== undefined)) exit(2, `--port and --host need --http\n${USAGE}`);
  const oauth = flags.oauth || process.env.MCP_OAUTH === "1";
  if (oauth && !flags.http) exit(2, `--oauth (MCP_OAUTH=1) needs --http\n${USAGE}`);

  const logger = new Logger();
  let demo = false;
  let config: Config;
  let http: HttpOptions | undefined;
  let signInSettings: import("./oauth/http.js").SignInSettings | undefined;
  let redisSettings: import("./redis/settings.js").RedisSettings | undefined;
  let closeDemo = async () => {};
  try {
    demo = flags.demo || demoRequested();
    if (flags.http) {
      // Checked before anything starts: an unsafe bind must not get as far as the demo CRM.
      const { loadHttpOptions } = await import("./transports/http.js");
      http = loadHttpOptions({ ...flags, oauth });
    }
    if (oauth) {
      const { loadSignInSettings } = await import("./oauth/http.js");
      signInSettings = loadSignInSettings(process.env, { demo });
    }
    if (process.env.MCP_REDIS_URL?.trim()) {
      // Read (and its password registered for redaction) before anything could print it.
      const { loadRedisSettings } = await import("./redis/settings.js");
      redisSettings = loadRedisSettings(process.env);
    }
    if (demo) {
      // Loaded only in demo mode: a real deployment never pays for the demo CRM's code.
      const { startDemoCrm } = await import("./demo/crm.js");
      const crm = await startDemoCrm({ latencyMs: Number(process.env.ZOHO_DEMO_LATENCY_MS ?? 0) || 0 });
      closeDemo = () => crm.close();
      config = loadConfig(
        {
          ...process.env,
          ZOHO_ACCESS_TOKEN: undefined,
          ZOHO_CLIENT_ID: "demo-client-id",
          ZOHO_CLIENT_SECRET: "demo-client-secret",
          // With --oauth each demo user signs in at the demo accounts server instead.
          ZOHO_REFRESH_TOKEN: oauth ? undefined : "demo-refresh-token",
          ZOHO_ACCOUNTS_URL: crm.url,
          ZOHO_API_DOMAIN: crm.url,
        },
        { signIn: oauth },
      );
      logger.log("info", `demo mode: serving against the demo CRM at ${crm.url}`);
    } else {
      config = loadConfig(process.env, { signIn: oauth });
    }
  } catch (error) {
    if (error instanceof ConfigError) exit(2, `configuration error: ${error.message}`);
    throw error;
  }
  for (const secret of secretsOf(config)) registerSecret(secret);

  // With MCP_REDIS_URL, what must hold across replicas lives in Redis (src/redis/index.ts).
  let shared: import("./redis/index.js").SharedState | undefined;
  if (redisSettings) {
    const { openSharedState } = await import("./redis/index.js");
    shared = await openSharedState(redisSettings, logger, { concurrency: config.concurrency });
    logger.log("info", `shared state in Redis at ${redisSettings.display}${shared.ready ? "" : " (not answering yet: requests that need it are refused until it does)"}`);
  } else if (oauth) {
    logger.log("info", "sign-in state (revocations, refresh-token rotation, used codes), ZOHO_CONCURRENCY and the rate limits are kept in this process: several replicas need MCP_REDIS_URL (docs/remote-oauth.md, Several replicas)");
  }

  // One deps per process, whatever the transport: one token cache, one concurrency cap.
  const deps = createDeps(config, logger, shared?.concurrency);
  let stop: () => Promise<void> = async () => {};
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await stop().catch(() => undefined);
    await shared?.close().catch(() => undefined);
    await closeDemo().catch(() => undefined);
    process.exit(0);
  };
  // SIGTERM (systemd) or SIGINT (pm2, Ctrl-C) drains; a second one is the operator insisting.
  const onSignal = () => (closing ? exit(1, "second signal: exiting without waiting for in-flight requests") : void shutdown());
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // One bad request must not take the server down with every other call in flight.
  process.on("unhandledRejection", (reason) => logger.log("error", `unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`));
  process.on("uncaughtException", (error) => logger.log("error", `uncaught exception: ${error.stack ?? error.message}`));

  if (http) {
    const { startHttpServer } = await import("./transports/http.js");
    if (signInSettings) {
      const { SignInHttp } = await import("./oauth/http.js");
      http.signIn = new SignInHttp(config, logger, { ...signInSettings, ...(shared ? { shared } : {}) });
      // The public name is the Host clients (or a proxy forwarding it) send. On a loopback bind it
      // joins the loopback names; on any other bind it is what makes Host checked at all: without
      // it a DNS-rebinding page on the private network would reach /register, /authorize and the
      // metadata fetches (review finding 11). MCP_ALLOWED_HOSTS adds other names.
      if (signInSettings.publicUrl) http.allowedHosts = [...(http.allowedHosts ?? []), new URL(signInSettings.publicUrl).host.toLowerCase()];
    }
    if (shared) http.redis = shared;
    const server = await startHttpServer(deps, http);
    stop = () => server.close();
    // The one line scripts and tests wait for: printed once, only when connections are accepted.
    process.stderr.write(`listening on ${server.url}\n`);
  } else {
    const { serveStdio } = await import("./transports/stdio.js");
    const server = await serveStdio(deps, () => void shutdown());
    stop = () => server.close();
    logger.log("info", demo ? "ready (stdio, demo CRM)" : `ready (stdio, ${config.dc.toUpperCase()} data center, ${config.environment})`);
  }
}

function exit(code: number, message: string): never {
  process.stderr.write(`zoho-crm-related-mcp: ${redact(message)}\n`);
  process.exit(code);
}

main().catch((error: unknown) => exit(1, error instanceof Error ? error.message : String(error)));
