// Where each MCP client keeps its server list, and how `setup` adds this server to it: merged into
// what is there, after a backup, never by rewriting a file it cannot read back.
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { posix, resolve, win32 } from "node:path";

export type ClientName = "claude-desktop" | "claude-code" | "cursor" | "vscode";

export const CLIENT_LABELS: Record<ClientName, string> = {
  "claude-desktop": "Claude Desktop",
  "claude-code": "Claude Code (user scope, every project)",
  cursor: "Cursor (every project)",
  vscode: "VS Code (user profile)",
};

export interface Launch {
  command: string;
  args: string[];
}

/** The client's configuration file for this user, per operating system. */
export function configPath(client: ClientName, platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  const path = platform === "win32" ? win32 : posix;
  // %APPDATA% on Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME (~/.config) elsewhere.
  const appData =
    platform === "win32" ? (env.APPDATA ?? path.join(home, "AppData", "Roaming"))
    : platform === "darwin" ? path.join(home, "Library", "Application Support")
    : (env.XDG_CONFIG_HOME ?? path.join(home, ".config"));
  switch (client) {
    case "claude-desktop":
      return path.join(appData, "Claude", "claude_desktop_config.json");
    case "claude-code":
      return path.join(home, ".claude.json");
    case "cursor":
      return path.join(home, ".cursor", "mcp.json");
    case "vscode":
      return path.join(appData, "Code", "User", "mcp.json");
  }
}

/** The server entry in the client's own format: VS Code and Claude Code name the transport. */
export function serverEntry(client: ClientName, launch: Launch, env: Record<string, string>, platform: NodeJS.Platform): Record<string, unknown> {
  // npx is a batch file on Windows: clients that spawn without a shell need cmd /c in front.
  const { command, args } = platform === "win32" && launch.command === "npx" ? { command: "cmd", args: ["/c", "npx", ...launch.args] } : launch;
  const entry = { command, args, env };
  return client === "vscode" || client === "claude-code" ? { type: "stdio", ...entry } : entry;
}

/** The key of the server map: VS Code's mcp.json says "servers", the others "mcpServers". */
export function serversKey(client: ClientName): "servers" | "mcpServers" {
  return client === "vscode" ? "servers" : "mcpServers";
}

export class ClientConfigError extends Error {
  override name = "ClientConfigError";
}

/** What is at `file` under the server's name now, if anything (to ask before replacing it). */
export function existingEntry(file: string, client: ClientName, name: string): unknown {
  if (!existsSync(file)) return undefined;
  const servers = readConfig(file)[serversKey(client)];
  return servers && typeof servers === "object" ? (servers as Record<string, unknown>)[name] : undefined;
}

/**
 * Adds (or replaces) the server `name` in `file`, keeping everything else. An existing file is
 * copied to `<file>.backup-<time>` first; a new one is created readable by the user only, since
 * the entry holds the client secret and the refresh token.
 */
export function writeServer(file: string, client: ClientName, name: string, entry: Record<string, unknown>, now = new Date()): { backup?: string; replaced: boolean } {
  const exists = existsSync(file);
  const config = exists ? readConfig(file) : {};
  const key = serversKey(client);
  const current = config[key];
  if (current !== undefined && (typeof current !== "object" || current === null || Array.isArray(current))) {
    throw new ClientConfigError(`${file}: "${key}" is not an object; not touching the file`);
  }
  const servers = { ...(current as Record<string, unknown> | undefined) };
  const replaced = name in servers;
  servers[name] = entry;
  config[key] = servers;
  let backup: string | undefined;
  if (exists) {
    backup = `${file}.backup-${now.toISOString().replace(/[:.]/g, "-")}`;
    copyFileSync(file, backup);
  } else {
    mkdirSync(resolve(file, ".."), { recursive: true });
  }
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, exists ? {} : { mode: 0o600 });
  return { backup, replaced };
}

function readConfig(file: string): Record<string, unknown> {
  const text = readFileSync(file, "utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // VS Code accepts comments in mcp.json; rewriting would drop them. Better the user pastes the entry.
    throw new ClientConfigError(`${file} is not plain JSON (comments or a typo?); not touching it`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new ClientConfigError(`${file} does not hold a JSON object; not touching it`);
  return parsed as Record<string, unknown>;
}

/**
 * How a client should start this server: the way `setup` itself was started. Through npx with a
 * tarball or a package name, npm tells (npm_config_package); otherwise this very file, with this
 * very Node.js (clients often start with a PATH that lacks a version manager's node).
 */
export function launchCommand(env: NodeJS.ProcessEnv, script: string, execPath: string, cwd: string): Launch {
  const spec = env.npm_command === "exec" ? env.npm_config_package : undefined;
  if (spec) {
    const isPath = /^(\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:\\)/.test(spec) || spec.endsWith(".tgz");
    const pkg = isPath ? resolve(env.INIT_CWD ?? cwd, spec) : spec;
    return { command: "npx", args: ["-y", `--package=${pkg}`, "zoho-crm-related-mcp"] };
  }
  if (env.npm_command === "exec" && /[\\/]_npx[\\/]/.test(script)) return { command: "npx", args: ["-y", "zoho-crm-related-mcp"] };
  let file = script;
  try {
    file = realpathSync(script);
  } catch {
    // keep the path as given
  }
  return { command: execPath, args: [file] };
}
