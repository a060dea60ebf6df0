import { createHash, randomBytes } from "node:crypto";
import { expect } from "vitest";
import { signInWithBrowser } from "./oauth-helpers.js";

/** Raw OAuth requests, as an MCP client (or an attacker) sends them, for the sign-in hardening tests. */

export const REDIRECT = "http://127.0.0.1:53682/callback";

export async function registerClient(origin: string, metadata: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${origin}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: "raw test client", token_endpoint_auth_method: "none", ...metadata }),
  });
}

export async function register(origin: string, metadata: Record<string, unknown> = {}): Promise<string> {
  const response = await registerClient(origin, metadata);
  expect(response.status).toBe(201);
  return ((await response.json()) as { client_id: string }).client_id;
}

export function pkce(verifier = randomBytes(32).toString("base64url")): { verifier: string; challenge: string } {
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export function authorizeUrl(origin: string, clientId: string, challenge: string, extra: Record<string, string> = {}): string {
  const url = new URL(`${origin}/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st-123",
    resource: `${origin}/mcp`,
    ...extra,
  }).toString();
  return url.href;
}

export async function tokenRequest(origin: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${origin}/token`, { method: "POST", body: new URLSearchParams(form), headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** One raw sign-in up to the code: register, authorize with PKCE, the browser steps. */
export async function rawCode(origin: string, options: { user?: "patricia" | "ravi"; clientId?: string; verifier?: string; redirect?: string } = {}): Promise<{ clientId: string; code: string; verifier: string }> {
  const clientId = options.clientId ?? (await register(origin));
  const { verifier, challenge } = pkce(options.verifier);
  const back = await signInWithBrowser(authorizeUrl(origin, clientId, challenge, options.redirect ? { redirect_uri: options.redirect } : {}), { user: options.user ?? "patricia" });
  const code = back.searchParams.get("code");
  if (!code) throw new Error(`no code: ${back.href}`);
  return { clientId, code, verifier };
}

/** One raw sign-in up to tokens. */
export async function rawSignIn(origin: string, user: "patricia" | "ravi" = "patricia"): Promise<{ clientId: string; access: string; refresh: string }> {
  const { clientId, code, verifier } = await rawCode(origin, { user });
  const { status, body } = await tokenRequest(origin, { grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT, resource: `${origin}/mcp` });
  expect(status, JSON.stringify(body)).toBe(200);
  return { clientId, access: String(body.access_token), refresh: String(body.refresh_token) };
}

export async function mcpCall(url: string, bearer: string | undefined, body: unknown = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
}
