// The demo accounts server's sign-in, for per-user sign-in (`--demo --http --oauth`): a sign-in page
// at /oauth/v2/auth where a person picks one of two demo users, the authorization-code grant at
// /oauth/v2/token, per-user refresh tokens, and /oauth/v2/token/revoke. The two users see different
// things, as two Zoho users with different profiles would: only the administrator reads Invoices and
// sees a lead that is private to its owner.
//
// Never write to stdout here: in demo mode the MCP server shares the process and stdout is JSON-RPC.

import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { DEMO } from "./seed.js";

export interface DemoSignInUser {
  name: string;
  email: string;
  role: string;
  /** The profile's permission on Invoices. */
  readsInvoices: boolean;
  /** Sees DEMO.restrictedLeadId (a lead private to its owner, Patricia). */
  seesPrivateLeads: boolean;
}

export const DEMO_SIGNIN_USERS = {
  patricia: { name: "Patricia Boyle", email: "patricia.boyle@zylker-demo.com", role: "Administrator", readsInvoices: true, seesPrivateLeads: true },
  ravi: { name: "Ravi Menon", email: "ravi.menon@zylker-demo.com", role: "Sales representative", readsInvoices: false, seesPrivateLeads: false },
} as const satisfies Record<string, DemoSignInUser>;

export type DemoSignInUserKey = keyof typeof DEMO_SIGNIN_USERS;

/** Who a demo access token belongs to: the self-client's service user, or a signed-in demo user. */
export type DemoIdentity = "service" | DemoSignInUserKey;

/** What each identity may read, for the CRM's handlers. */
export function permissionsOf(identity: DemoIdentity): { readsInvoices: boolean; listsInvoices: boolean; hiddenRecordIds: ReadonlySet<string> } {
  // The self-client's service user: the Invoices list shows in the metadata, its records answer NO_PERMISSION.
  if (identity === "service") return { readsInvoices: false, listsInvoices: true, hiddenRecordIds: new Set() };
  const user: DemoSignInUser = DEMO_SIGNIN_USERS[identity];
  return { readsInvoices: user.readsInvoices, listsInvoices: user.readsInvoices, hiddenRecordIds: new Set(user.seesPrivateLeads ? [] : [DEMO.restrictedLeadId]) };
}

interface PendingCode {
  user: DemoSignInUserKey;
  clientId: string;
  redirectUri: string;
  expiresAt: number;
  /** PKCE, which Zoho takes from server-based clients too (optional there): the S256 challenge, if one was sent. */
  challenge: string | undefined;
  /** The scopes the user consented to (the auth request's `scope`), as Zoho grants them. */
  scope: string;
}

const CODE_TTL_MS = 2 * 60_000;

export class DemoAccounts {
  private readonly codes = new Map<string, PendingCode>();
  /** Refresh token -> user; revoked ones are deleted. */
  readonly refreshTokens = new Map<string, DemoSignInUserKey>();
  /** Refresh token -> the scopes consented to: its access tokens carry those and no others, as on Zoho. */
  readonly refreshScopes = new Map<string, string>();

  constructor(private readonly clientId: string) {}

  /** GET shows the sign-in page; POST signs the chosen user in and redirects with a code. */
  async handleAuth(req: IncomingMessage, res: ServerResponse, requestUrl: URL, accountsUrl: string, readBody: () => Promise<string>): Promise<void> {
    const params = req.method === "POST" ? new URLSearchParams(await readBody()) : requestUrl.searchParams;
    const clientId = params.get("client_id") ?? "";
    const redirectUri = params.get("redirect_uri") ?? "";
    const state = params.get("state");
    // Zoho shows its own error page for these: nothing may be sent to an unchecked redirect URI.
    if (clientId !== this.clientId) return page(res, 400, "Invalid client", "<p>The client_id is not registered with the demo accounts server.</p>");
    if (!/^https?:\/\//.test(redirectUri)) return page(res, 400, "Invalid redirect URI", "<p>redirect_uri must be an http(s) URL.</p>");
    if (params.get("response_type") !== "code") return page(res, 400, "Invalid request", "<p>response_type must be code.</p>");
    const challenge = params.get("code_challenge") ?? undefined;
    if (challenge !== undefined && params.get("code_challenge_method") !== "S256") return page(res, 400, "Invalid request", "<p>code_challenge_method must be S256 here.</p>");

    if (req.method !== "POST") return page(res, 200, "Sign in to Zoho CRM (demo)", signInForm(params));

    const target = new URL(redirectUri);
    if (state !== null) target.searchParams.set("state", state);
    const user = params.get("user");
    if (params.get("decision") === "reject" || !user || !Object.hasOwn(DEMO_SIGNIN_USERS, user)) {
      target.searchParams.set("error", "access_denied");
    } else {
      const code = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
      this.codes.set(code, { user: user as DemoSignInUserKey, clientId, redirectUri, expiresAt: Date.now() + CODE_TTL_MS, challenge, scope: params.get("scope") ?? "" });
      target.searchParams.set("code", code);
    }
    // A multi-DC Zoho client gets these on every redirect: where the user's account lives.
    target.searchParams.set("location", "us");
    target.searchParams.set("accounts-server", accountsUrl);
    res.writeHead(302, { location: target.href, "cache-control": "no-store" }).end();
  }

  /** grant_type=authorization_code: the user and a new refresh token, or Zoho's error code. */
  exchange(params: URLSearchParams): { user: DemoSignInUserKey; refreshToken: string } | { error: string } {
    const code = params.get("code") ?? "";
    const pending = this.codes.get(code);
    this.codes.delete(code); // single use, like Zoho's
    if (!pending || pending.expiresAt < Date.now()) return { error: "invalid_code" };
    if (params.get("client_id") !== pending.clientId) return { error: "invalid_client" };
    if (params.get("redirect_uri") !== pending.redirectUri) return { error: "invalid_redirect_uri" };
    if (pending.challenge !== undefined && createHash("sha256").update(params.get("code_verifier") ?? "").digest("base64url") !== pending.challenge) return { error: "invalid_code" };
    const refreshToken = `1000.${randomBytes(16).toString("hex")}.${randomBytes(16).toString("hex")}`;
    this.refreshTokens.set(refreshToken, pending.user);
    this.refreshScopes.set(refreshToken, pending.scope);
    return { user: pending.user, refreshToken };
  }
}

function signInForm(params: URLSearchParams): string {
  const hidden = ["client_id", "redirect_uri", "state", "scope", "response_type", "access_type", "prompt", "code_challenge", "code_challenge_method"]
    .filter((name) => params.get(name) !== null)
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name)!)}">`)
    .join("\n");
  const users = Object.entries(DEMO_SIGNIN_USERS)
    .map(([key, u]) => `<li><button type="submit" name="user" value="${key}">Sign in as ${escapeHtml(u.name)}</button> <span>${escapeHtml(u.role)}${u.readsInvoices ? "" : ": cannot read Invoices nor private leads of others"}</span></li>`)
    .join("\n");
  return `<p>This is the demo CRM's stand-in for Zoho Accounts. Choose a demo user; nothing here is a real account.</p>
<p>The application asks to read: ${escapeHtml(params.get("scope") ?? "(no scope)")}</p>
<form method="post" action="/oauth/v2/auth">
${hidden}
<ul>
${users}
</ul>
<button type="submit" name="decision" value="reject">Reject</button>
</form>`;
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "cache-control": "no-store",
  });
  res.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
