import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { loadConfig } from "../src/config.js";
import { startDemoCrm, type DemoCrm } from "../src/demo/crm.js";
import { Logger } from "../src/log.js";
import { SignInHttp, type SignInSettings } from "../src/oauth/http.js";
import { createDeps } from "../src/server.js";
import { startHttpServer, type HttpServerHandle } from "../src/transports/http.js";
import { CANARY } from "./helpers.js";

/** Per-user sign-in tests: the demo CRM (with its accounts server) and our HTTP server on 127.0.0.1. */
export interface SignInServer {
  crm: DemoCrm;
  server: HttpServerHandle;
  signIn: SignInHttp;
  /** The server's origin (http://127.0.0.1:N), which is also the issuer unless publicUrl was given. */
  origin: string;
  mcpUrl: string;
  secret: Uint8Array;
  close(): Promise<void>;
}

export async function startSignInServer(options: { crm?: DemoCrm; secret?: Uint8Array; publicUrl?: string; settings?: Partial<SignInSettings>; env?: Record<string, string> } = {}): Promise<SignInServer> {
  const crm = options.crm ?? (await startDemoCrm({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, refreshToken: CANARY.refreshToken }));
  const config = loadConfig({ ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_ACCOUNTS_URL: crm.url, ZOHO_API_DOMAIN: crm.url, ...options.env }, { signIn: true });
  const logger = new Logger(false);
  const secret = options.secret ?? new Uint8Array(randomBytes(32));
  const signIn = new SignInHttp(config, logger, { publicUrl: options.publicUrl, secret, rateLimit: false, ...options.settings });
  const server = await startHttpServer(createDeps(config, logger), { host: "127.0.0.1", port: 0, token: undefined, allowedOrigins: [], signIn });
  const origin = `http://127.0.0.1:${server.port}`;
  return {
    crm,
    server,
    signIn,
    origin,
    mcpUrl: `${origin}/mcp`,
    secret,
    close: async () => {
      await server.close();
      if (!options.crm) await crm.close();
    },
  };
}

/** The client side's storage, as a desktop MCP client would keep it, and the URL it would open. */
export class TestOAuthProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  stored: OAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | undefined;

  constructor(readonly redirectUrl = "http://127.0.0.1:53682/callback", readonly name = "SDK test client") {}

  get clientMetadata(): OAuthClientMetadata {
    return { redirect_uris: [this.redirectUrl], client_name: this.name, token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: OAuthTokens) {
    this.stored = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** A browser's cookie jar, for one origin at a time (enough for these flows). */
export class Browser {
  private readonly jar = new Map<string, string>();
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  async get(url: string): Promise<Response> {
    return this.request(url, { method: "GET" });
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    return this.request(url, { method: "POST", body: new URLSearchParams(form), headers: { "content-type": "application/x-www-form-urlencoded" } });
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    this.visited.push(url);
    const host = new URL(url).host;
    const cookie = [...this.jar].filter(([key]) => key.startsWith(`${host} `)).map(([key, value]) => `${key.slice(host.length + 1)}=${value}`).join("; ");
    const response = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, ...rest] = pair!.split("=");
      const value = rest.join("=");
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === "") this.jar.delete(`${host} ${name}`);
      else this.jar.set(`${host} ${name}`, value);
    }
    return response;
  }
}

/** The hidden inputs and the action of the first form on a page. */
export function formOf(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1] ?? "";
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = unescape(m[2]!);
  return { action: unescape(action), fields };
}

function unescape(text: string): string {
  return text.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
}

export type DemoUserKey = "patricia" | "ravi";

/**
 * What a person does in the browser between the client's authorization URL and its redirect URI:
 * our consent page (Allow or Deny), the demo accounts server's sign-in (a user, or Reject), and
 * Zoho's redirect back to our callback. Returns the URL the browser ends at (the client's redirect
 * URI with code or error). `tamperCallback` may rewrite Zoho's redirect before the browser follows it.
 */
export async function signInWithBrowser(
  authorizationUrl: URL | string,
  options: { user?: DemoUserKey; consent?: "allow" | "deny"; zoho?: "sign-in" | "reject"; tamperCallback?: (url: URL) => URL; browser?: Browser } = {},
): Promise<URL> {
  const browser = options.browser ?? new Browser();
  const consent = await browser.get(String(authorizationUrl));
  if (consent.status !== 200) throw new Error(`consent page: HTTP ${consent.status} ${await consent.text()}`);
  const consentForm = formOf(await consent.text());
  const afterConsent = await browser.post(new URL(consentForm.action, authorizationUrl).href, { ...consentForm.fields, choice: options.consent ?? "allow" });
  const zohoUrl = afterConsent.headers.get("location");
  if (afterConsent.status !== 302 || !zohoUrl) throw new Error(`consent: HTTP ${afterConsent.status}`);
  if ((options.consent ?? "allow") === "deny") return new URL(zohoUrl);

  const signInPage = await browser.get(zohoUrl);
  if (signInPage.status !== 200) throw new Error(`demo sign-in page: HTTP ${signInPage.status}`);
  const signInForm = formOf(await signInPage.text());
  const choice: Record<string, string> = options.zoho === "reject" ? { decision: "reject" } : { user: options.user ?? "patricia" };
  const afterSignIn = await browser.post(new URL(signInForm.action, zohoUrl).href, { ...signInForm.fields, ...choice });
  let callback = new URL(afterSignIn.headers.get("location") ?? "");
  if (options.tamperCallback) callback = options.tamperCallback(callback);
  const atCallback = await browser.get(callback.href);
  const final = atCallback.headers.get("location");
  if (atCallback.status !== 302 || !final) throw new Error(`callback: HTTP ${atCallback.status} ${await atCallback.text()}`);
  return new URL(final);
}

/** The SDK's own client, signed in as `user` through the whole flow. */
export async function connectSignedIn(mcpUrl: string, user: DemoUserKey, provider = new TestOAuthProvider()): Promise<{ client: Client; provider: TestOAuthProvider; transport: StreamableHTTPClientTransport }> {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const probe = new Client({ name: "oauth-test", version: "1.0.0" });
  await probe.connect(first).then(
    () => {
      throw new Error("connected without signing in");
    },
    (error: unknown) => {
      if (!(error instanceof UnauthorizedError)) throw error;
    },
  );
  if (!provider.authorizationUrl) throw new Error("the client was not sent to sign in");
  const back = await signInWithBrowser(provider.authorizationUrl, { user });
  const code = back.searchParams.get("code");
  if (!code) throw new Error(`sign-in ended without a code: ${back.searchParams.get("error")} ${back.searchParams.get("error_description")}`);
  await first.finishAuth(code);
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: "oauth-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, provider, transport };
}
