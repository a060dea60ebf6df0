// `zoho-crm-related-mcp setup`: sign in with a Zoho self-client in the terminal, exchange the grant
// code while it is fresh, check the token with a real call, and write the server into a client's
// configuration (or print it). Not serving: it writes to stdout. Secrets are typed without echo and
// appear in no message; only the entry the user asks to print carries them.
import { homedir } from "node:os";
import { parseArgs } from "node:util";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { ConfigError, DATA_CENTERS, apiDomainFor, loadConfig, type DataCenter, type Environment } from "../config.js";
import { Logger, redact } from "../log.js";
import { ZohoClient } from "../zoho/client.js";
import { ZohoError } from "../zoho/errors.js";
import { SETUP_SCOPES, exchangeGrantCode, type Grant } from "../zoho/grant.js";
import { CLIENT_LABELS, ClientConfigError, configPath, existingEntry, launchCommand, serverEntry, serversKey, writeServer, type ClientName } from "./clients.js";

export { SETUP_SCOPES };

const TARGETS = ["claude-desktop", "claude-code", "cursor", "vscode", "print"] as const;
type Target = ClientName | "print";

export const SETUP_USAGE = `zoho-crm-related-mcp setup [flags]

  Signs in to Zoho CRM with a self-client and writes this server into an MCP client's configuration.
  Asks for what the flags do not give. With --code (or ZOHO_GRANT_CODE) it asks nothing, for scripts.

  --dc DC                 data center: ${Object.keys(DATA_CENTERS).join(", ")} (default: asked; us without questions)
  --environment ENV       production (default), sandbox or developer
  --client-id ID          the self-client's Client ID (or ZOHO_CLIENT_ID)
                          the Client secret only from ZOHO_CLIENT_SECRET, or typed: never a flag
  --code CODE             a grant code from the API console (or ZOHO_GRANT_CODE)
  --client NAME           ${TARGETS.join(", ")} (default: asked; print without questions)
  --name NAME             the server's name in the client's configuration (default zoho-crm)
  --config-file FILE      write to this file instead of the client's usual one
  --yes                   replace an existing entry of that name without asking
  --accounts-url URL, --api-domain URL
                          another accounts server and API host (ZOHO_ACCOUNTS_URL, ZOHO_API_DOMAIN)
  --demo                  try it with no Zoho account: every step against the demo CRM's accounts
                          server (started for the run), and an entry that serves the demo CRM

  The scopes to paste into the API console's Generate Code:
  ${SETUP_SCOPES}
`;

export interface SetupIo {
  env?: NodeJS.ProcessEnv;
  input?: Readable;
  output?: Writable;
  /** Where progress goes when stdout carries only the printed entry (--code with --client print). */
  errorOutput?: Writable;
  platform?: NodeJS.Platform;
  home?: string;
  /** How clients should start the server; by default, the way this process was started. */
  launch?: { command: string; args: string[] };
}

class SetupError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export async function setup(argv: string[], io: SetupIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  // For scripts (`setup --code ... > entry.json`), stdout holds the printed entry alone.
  const scripted = argv.some((a) => a === "--code" || a.startsWith("--code=")) || Boolean(env.ZOHO_GRANT_CODE);
  const printing = argv.some((a, i) => (a === "--client" && argv[i + 1] === "print") || a === "--client=print") || !argv.some((a) => a === "--client" || a.startsWith("--client="));
  const output = scripted && printing ? (io.errorOutput ?? process.stderr) : (io.output ?? process.stdout);
  const say = (text = "") => void output.write(`${redact(text)}\n`);
  try {
    return await run(argv, env, io, say);
  } catch (error) {
    if (error instanceof SetupError) {
      say(`setup: ${error.message}`);
      return error.exitCode;
    }
    // Ctrl-C in a prompt: inquirer rejects with ExitPromptError.
    if (error instanceof Error && error.name === "ExitPromptError") {
      say("setup: cancelled; nothing was written");
      return 130;
    }
    // The input ended (`setup </dev/null`, a pipe) with a question open: the same as Ctrl-C.
    if (error instanceof Error && error.name === "AbortPromptError") {
      const scripts = argv.includes("--demo") ? "" : "; scripts pass --code";
      say(`setup: the input ended before every question was answered (setup asks in a terminal${scripts}); cancelled, nothing was written`);
      return 130;
    }
    throw error;
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv, io: SetupIo, say: (text?: string) => void): Promise<number> {
  if (argv.some((a) => /^--client-secret\b|^--refresh-token\b/.test(a))) {
    throw new SetupError("secrets are never taken as flags (other users can read a command line): set ZOHO_CLIENT_SECRET, or let setup ask", 2);
  }
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        dc: { type: "string" },
        environment: { type: "string" },
        "client-id": { type: "string" },
        code: { type: "string" },
        client: { type: "string" },
        name: { type: "string" },
        "config-file": { type: "string" },
        yes: { type: "boolean", short: "y" },
        "accounts-url": { type: "string" },
        "api-domain": { type: "string" },
        demo: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    throw new SetupError(`${(error as Error).message}\n\n${SETUP_USAGE}`, 2);
  }
  if (flags.help) {
    say(SETUP_USAGE.trimEnd());
    return 0;
  }
  const platform = io.platform ?? process.platform;
  const home = io.home ?? homedir();
  const code = flags.code ?? (env.ZOHO_GRANT_CODE || undefined);
  const interactive = code === undefined;
  const prompts = interactive ? await import("@inquirer/prompts") : undefined;
  // Each prompt pipes into its output and ends it when answered: Node never lets a pipe end
  // process.stdout, but any other stream (a test's) gets a fresh pass-through per prompt.
  const promptOutput = () => {
    if (!io.output) return process.stdout;
    const through = new PassThrough();
    through.pipe(io.output, { end: false });
    return through;
  };
  const input = io.input ?? process.stdin;
  // The end of the input cancels the open question. Inquirer leaves a prompt open when its input
  // ends and counts on the process running out of work; the demo CRM's server never lets it.
  const inputEnded = new AbortController();
  const endInput = () => inputEnded.abort(new Error("the input ended"));
  if (input.readableEnded) endInput();
  else input.once("end", endInput);
  const ask = () => ({ input, output: promptOutput(), signal: inputEnded.signal });

  // Checked before anything is asked or sent: a typo here must not cost a grant code.
  const dcFlag = flags.dc?.toLowerCase();
  if (dcFlag !== undefined && !(dcFlag in DATA_CENTERS)) throw new SetupError(`--dc must be one of ${Object.keys(DATA_CENTERS).join(", ")}`, 2);
  const environment = (flags.environment ?? "production").toLowerCase();
  if (!["production", "sandbox", "developer"].includes(environment)) throw new SetupError("--environment must be one of production, sandbox, developer", 2);
  const target = flags.client;
  if (target !== undefined && !(TARGETS as readonly string[]).includes(target)) throw new SetupError(`--client must be one of ${TARGETS.join(", ")}`, 2);
  const name = flags.name ?? "zoho-crm";
  if (!/^[\w.-]{1,64}$/.test(name)) throw new SetupError("--name may hold letters, digits, '.', '_' and '-' only (at most 64)", 2);
  if (flags.demo && (flags["accounts-url"] ?? flags["api-domain"] ?? code) !== undefined) throw new SetupError("--demo brings its own accounts server and grant code: drop --accounts-url, --api-domain and --code", 2);

  // --demo: the demo CRM's accounts server stands in for Zoho's, with its self-client, for this run only.
  const demo = flags.demo ? await startDemo() : undefined;
  try {
    return await walk({ flags, env, io, say, prompts, ask, platform, home, code, interactive, dcFlag, environment, target, name, demo });
  } finally {
    input.off("end", endInput);
    await demo?.crm.close();
  }
}

interface Demo {
  crm: import("../demo/crm.js").DemoCrm;
  clientId: string;
  clientSecret: string;
}

async function startDemo(): Promise<Demo> {
  // Loaded only for --demo, as in the server: a real setup never parses the demo CRM.
  const { startDemoCrm } = await import("../demo/crm.js");
  return { crm: await startDemoCrm(), clientId: "demo-client-id", clientSecret: "demo-client-secret" };
}

interface Walk {
  flags: { "client-id"?: string; "accounts-url"?: string; "api-domain"?: string; "config-file"?: string; yes?: boolean };
  env: NodeJS.ProcessEnv;
  io: SetupIo;
  say: (text?: string) => void;
  prompts: typeof import("@inquirer/prompts") | undefined;
  /** A prompt's context: its input, a fresh output, and the signal that the input ended. */
  ask: () => { input: Readable; output: Writable; signal: AbortSignal };
  platform: NodeJS.Platform;
  home: string;
  code: string | undefined;
  interactive: boolean;
  dcFlag: string | undefined;
  environment: string;
  target: string | undefined;
  name: string;
  demo: Demo | undefined;
}

/** The steps, in order: data center, client, where the entry goes, grant code, a real call, the entry written. */
async function walk({ flags, env, io, say, prompts, ask, platform, home, code, interactive, dcFlag, environment, target, name, demo }: Walk): Promise<number> {

  if (interactive) {
    say("Sign in to Zoho CRM with a self-client: an OAuth client of your own Zoho account, with no web page to host.");
    say("The server then reads your CRM as you, read-only. Ctrl-C stops at any point; nothing is written before the end.");
    say();
  }
  if (demo) {
    say(`Demo: the demo CRM's accounts server at ${demo.crm.url} stands in for Zoho's, for this run only. Every step is the real one;`);
    say("nothing reaches Zoho, and the entry written serves the demo CRM (--demo), with no secret in it.");
    say();
  }

  // 1. data center
  const dc = (dcFlag ??
    (prompts
      ? await prompts.select<DataCenter>(
          {
            message: "Where does your Zoho account live (the domain you sign in at)?",
            choices: Object.entries(DATA_CENTERS).map(([value, d]) => ({ value: value as DataCenter, name: `${value.toUpperCase()}  ${new URL(d.accounts).hostname.replace(/^accounts\./, "")}` })),
          },
          ask(),
        )
      : "us")) as DataCenter;
  let accountsUrl: string = DATA_CENTERS[dc].accounts;
  let apiDomain: string | undefined;
  try {
    // The same checks as the server's: https, or plain http on loopback only.
    const checked = loadConfig({
      ZOHO_ACCESS_TOKEN: "x",
      ZOHO_DC: dc,
      ZOHO_ENVIRONMENT: environment,
      ZOHO_ACCOUNTS_URL: demo?.crm.url ?? flags["accounts-url"] ?? env.ZOHO_ACCOUNTS_URL,
      ZOHO_API_DOMAIN: demo?.crm.url ?? flags["api-domain"] ?? env.ZOHO_API_DOMAIN,
    });
    accountsUrl = checked.accountsUrl;
    if (checked.apiDomainPinned) apiDomain = checked.apiDomain;
  } catch (error) {
    if (error instanceof ConfigError) throw new SetupError(error.message.replace(/^ZOHO_ACCOUNTS_URL/, "--accounts-url").replace(/^ZOHO_API_DOMAIN/, "--api-domain"), 2);
    throw error;
  }
  const consoleUrl = `https://${new URL(DATA_CENTERS[dc].accounts).hostname.replace(/^accounts\./, "api-console.")}`;

  // 2. client id and secret
  if (interactive) {
    say();
    say(`Open ${consoleUrl} and choose Add Client → Self Client → Create (once).`);
    say("Its Client Secret tab shows the Client ID and the Client secret.");
  }
  if (demo) say(`Demo: the demo accounts server's self-client is Client ID ${demo.clientId}, Client secret ${demo.clientSecret}; both are filled in.`);
  const clientId = (demo?.clientId ?? flags["client-id"] ?? (env.ZOHO_CLIENT_ID || undefined) ?? (prompts ? await prompts.input({ message: "Client ID:", validate: (v) => (v.trim() ? true : "paste the Client ID") }, ask()) : undefined))?.trim();
  if (!clientId) throw new SetupError("--client-id (or ZOHO_CLIENT_ID) is missing", 2);
  const clientSecret = (demo?.clientSecret ?? (env.ZOHO_CLIENT_SECRET || undefined) ?? (prompts ? await prompts.password({ message: "Client secret (typing is not shown):", validate: (v) => (v.trim() ? true : "paste the Client secret") }, ask()) : undefined))?.trim();
  if (!clientSecret) throw new SetupError("ZOHO_CLIENT_SECRET is missing (the secret is never a flag)", 2);

  // 3. where the server goes, settled before the code is exchanged: a "no" to replacing an entry,
  // or a file setup cannot edit, must not cost a fresh grant code (it works once).
  const chosen = (target ??
    (prompts
      ? await prompts.select<Target>(
          {
            message: "Add the server to:",
            choices: [
              ...(Object.entries(CLIENT_LABELS) as Array<[ClientName, string]>).map(([value, label]) => ({ value, name: `${label}: ${configPath(value, platform, env, home)}` })),
              { value: "print" as const, name: "none: print the entry (it shows the secrets)" },
            ],
          },
          ask(),
        )
      : "print")) as Target;
  const file = chosen === "print" ? undefined : (flags["config-file"] ?? configPath(chosen, platform, env, home));
  if (file && chosen !== "print") {
    try {
      if (existingEntry(file, chosen, name) !== undefined && !flags.yes) {
        const replace = prompts ? await prompts.confirm({ message: `${file} already has a server named ${name}. Replace it?`, default: false }, ask()) : false;
        if (!replace) throw new SetupError(`${file} already has a server named ${name}: pass --yes to replace it, or --name for another name; nothing was written, and no grant code was used`);
      }
    } catch (error) {
      if (error instanceof ClientConfigError) throw new SetupError(`${error.message}. Run setup again with --client print and add the entry by hand.`);
      throw error;
    }
  }

  // 4. grant code, exchanged at once: it lives 3 to 10 minutes and works once.
  let grant: Grant | undefined;
  for (let attempt = 1; !grant; attempt++) {
    if (interactive) {
      say();
      say("In the same console's Generate Code tab, paste this scope (all of it):");
      say();
      say(`  ${SETUP_SCOPES}`);
      say();
      say("choose 10 minutes, a description (e.g. MCP server), Create, pick your CRM organization, and copy the code.");
    }
    // The demo's Generate Code: a real grant code of the demo accounts server, single use, 10 minutes.
    const demoCode = demo?.crm.issueGrantCode();
    if (demoCode) say(`Demo: Generate Code made ${demoCode}; Enter takes it.`);
    const typed =
      code ??
      (prompts
        ? demoCode
          ? await prompts.input({ message: "Code:", default: demoCode }, ask())
          : await prompts.password({ message: "Code:", mask: "*", validate: (v) => (v.trim() ? true : "paste the code") }, ask())
        : "");
    try {
      grant = await exchangeGrantCode({ accountsUrl, clientId, clientSecret, code: typed.trim(), apiDomain });
    } catch (error) {
      const retry = interactive && attempt < 3 && error instanceof ZohoError && /invalid_code/.test(error.message);
      say(`✗ ${describe(error)}`);
      if (!retry) throw new SetupError("no refresh token; nothing was written");
    }
  }
  say(`✓ Zoho issued a refresh token at ${accountsUrl}`);

  // 5. a real call: whose CRM is this?
  const apiBase = apiDomain ?? (environment === "production" ? grant.apiDomain : apiDomainFor(dc, environment as Environment));
  const who = await verify(grant, dc, environment, accountsUrl, apiBase);
  say(`✓ ${who}`);

  // 6. the entry, written
  const serverEnv: Record<string, string> = { ZOHO_CLIENT_ID: clientId, ZOHO_CLIENT_SECRET: clientSecret, ZOHO_REFRESH_TOKEN: grant.refreshToken, ZOHO_DC: dc };
  if (environment !== "production") serverEnv.ZOHO_ENVIRONMENT = environment;
  if (flags["accounts-url"] ?? env.ZOHO_ACCOUNTS_URL) serverEnv.ZOHO_ACCOUNTS_URL = accountsUrl;
  if (apiDomain) serverEnv.ZOHO_API_DOMAIN = apiDomain;
  const started = io.launch ?? launchCommand(env, process.argv[1] ?? "", process.execPath, process.cwd());
  // The demo's refresh token ends with this run's accounts server: the entry serves the demo CRM
  // instead, which needs no secret.
  const launch = demo ? { command: started.command, args: [...started.args, "--demo"] } : started;
  if (demo) for (const key of Object.keys(serverEnv)) delete serverEnv[key];

  if (chosen === "print" || !file) {
    // Asked for: the one output that carries the secrets, as the client's configuration needs them.
    output(io).write(`${JSON.stringify({ mcpServers: { [name]: serverEntry("claude-desktop", launch, serverEnv, platform) } }, null, 2)}\n`);
    say(demo ? "It holds no secret: it serves the demo CRM." : "Keep it private: it holds the client secret and the refresh token. In the .mcpb form they are Client secret and Refresh token.");
    return 0;
  }

  try {
    const { backup } = writeServer(file, chosen, name, serverEntry(chosen, launch, serverEnv, platform));
    say(`✓ Added "${name}" to ${file} (${serversKey(chosen)})${backup ? `; the previous file is ${backup}` : ""}`);
  } catch (error) {
    if (error instanceof ClientConfigError) throw new SetupError(`${error.message}. Run setup again with --client print and add the entry by hand.`);
    throw error;
  }
  const check = `zoho-crm-related-mcp doctor --client ${chosen}${flags["config-file"] ? ` --config-file ${file}` : ""}${name === "zoho-crm" ? "" : ` --name ${name}`}`;
  say(`Restart ${CLIENT_LABELS[chosen].replace(/ \(.*\)$/, "")} to load it. \`${check}\` checks that entry from a terminal.`);
  return 0;
}

function output(io: SetupIo): Writable {
  return io.output ?? process.stdout;
}

/** Reads the org's and the user's names with the new token, as the server will use it. */
async function verify(grant: Grant, dc: DataCenter, environment: string, accountsUrl: string, apiBase: string): Promise<string> {
  const config = loadConfig({ ZOHO_ACCESS_TOKEN: grant.accessToken, ZOHO_DC: dc, ZOHO_ENVIRONMENT: environment, ZOHO_ACCOUNTS_URL: accountsUrl, ZOHO_API_DOMAIN: apiBase });
  const client = new ZohoClient(config, new Logger(false));
  const named = async (path: string, key: string, params: Record<string, string> = {}) => {
    try {
      const { body } = await client.get(path, { searchParams: params });
      return ((body?.[key] as unknown[] | undefined)?.[0] ?? {}) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof ZohoError && error.code === "OAUTH_SCOPE_MISMATCH") return undefined;
      throw new SetupError(`the token works at the accounts server but ${apiBase} refused it: ${describe(error)}; nothing was written`);
    }
  };
  const org = await named("org", "org");
  const user = await named("users", "users", { type: "CurrentUser" });
  if (!org && !user) {
    // A code made with the tools' scopes only: prove the token on what the tools read.
    try {
      await client.get("settings/related_lists", { searchParams: { module: "Leads" } });
    } catch (error) {
      throw new SetupError(`${apiBase} refused the token: ${describe(error)}; nothing was written`);
    }
    return `the token reads ${apiBase} (organization and user names need ZohoCRM.org.READ and ZohoCRM.users.READ)`;
  }
  const orgText = org ? `organization ${String(org.company_name ?? "?")}${org.domain_name ? ` (${String(org.domain_name)})` : ""}` : "organization (no ZohoCRM.org.READ scope)";
  const userText = user ? `${String(user.full_name ?? "?")}${user.email ? ` <${String(user.email)}>` : ""}` : "(no ZohoCRM.users.READ scope)";
  return `signed in to ${orgText} as ${userText}`;
}

function describe(error: unknown): string {
  if (error instanceof ZohoError) return `${error.message}${error.hint ? `: ${error.hint}` : ""}`;
  return error instanceof Error ? error.message : String(error);
}
