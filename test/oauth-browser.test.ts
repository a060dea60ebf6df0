// A real browser (headless Chromium from the distribution's packages, driven by playwright-core) on
// the consent page and the demo sign-in: the pages render (styles allowed by the CSP, no script),
// Deny ends at the client with access_denied, Allow and a chosen demo user end with the client
// connected. Without Chromium the test is skipped with a message saying how to install it.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { TestOAuthProvider, startSignInServer, type SignInServer } from "./oauth-helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  process.stderr.write(`oauth-browser.test.ts skipped: no Chromium at ${CHROMIUM}. Install it with: sudo apt-get update && sudo apt-get install -y chromium (or set CHROMIUM_PATH)\n`);
}
const TIMEOUT = 60_000;

/** The MCP client's redirect URI: records what the browser brought back and says so on a page. */
async function startClientCallback(): Promise<{ url: string; last: () => URLSearchParams | undefined; close: () => Promise<void> }> {
  let last: URLSearchParams | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    // The browser also asks for /favicon.ico: only the callback counts.
    if (url.pathname !== "/callback") return void res.writeHead(404).end();
    last = url.searchParams;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><title>Client callback</title><h1>${last.has("code") ? "Code received" : `Error: ${last.get("error")}`}</h1>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    last: () => last,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Starts the SDK client's sign-in and returns the URL it wants a browser to open. */
async function startSignIn(mcpUrl: string, provider: TestOAuthProvider): Promise<URL> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await new Client({ name: "browser-test", version: "1.0.0" }).connect(transport).then(
    () => expect.unreachable("connected without signing in"),
    (error: unknown) => expect(error).toBeInstanceOf(UnauthorizedError),
  );
  return provider.authorizationUrl!;
}

describe.skipIf(!HAVE_CHROMIUM)("consent page and demo sign-in in headless Chromium", () => {
  let s: SignInServer;
  let context: BrowserContext;
  let profile: string;
  let callback: Awaited<ReturnType<typeof startClientCallback>>;

  beforeAll(async () => {
    s = await startSignInServer();
    callback = await startClientCallback();
    profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, TIMEOUT);

  afterAll(async () => {
    await context?.close();
    await callback?.close();
    await s?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it(
    "Deny ends at the client with access_denied",
    async () => {
      const provider = new TestOAuthProvider(callback.url, "Browser Test Client");
      const page = await context.newPage();
      const violations: string[] = [];
      page.on("console", (m) => void (m.type() === "error" && violations.push(m.text())));
      await page.goto(String(await startSignIn(s.mcpUrl, provider)));
      // A dynamically registered client's name is its own claim: quoted, and the page says it is unverified.
      await expect.poll(() => page.title()).toBe("Allow \u201cBrowser Test Client\u201d to read your Zoho CRM?");
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Allow \u201cBrowser Test Client\u201d to read your Zoho CRM?");
      expect(await page.getByText("this server has not verified it").count()).toBe(1);
      // The style sheet applies (allowed by its hash), and nothing was blocked.
      const allow = page.getByRole("button", { name: "Allow" });
      expect(await allow.evaluate((b) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(b).backgroundColor)).toBe("rgb(26, 95, 180)");
      expect(violations).toEqual([]);
      await page.getByRole("button", { name: "Deny" }).click();
      await page.waitForURL((u) => u.href.startsWith(callback.url));
      expect(callback.last()?.get("error")).toBe("access_denied");
      expect(callback.last()?.get("code")).toBeNull();
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Error: access_denied");
      await page.close();
    },
    TIMEOUT,
  );

  it(
    "Allow, then a demo user at the demo accounts server: the client connects as that user",
    async () => {
      const provider = new TestOAuthProvider(callback.url, "Browser Test Client");
      const page = await context.newPage();
      await page.goto(String(await startSignIn(s.mcpUrl, provider)));
      await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL((u) => u.href.startsWith(`${s.crm.url}/oauth/v2/auth`));
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Sign in to Zoho CRM (demo)");
      await page.getByRole("button", { name: "Sign in as Patricia Boyle" }).click();
      await page.waitForURL((u) => u.href.startsWith(callback.url));
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Code received");
      const code = callback.last()?.get("code");
      expect(code).toBeTruthy();

      const transport = new StreamableHTTPClientTransport(new URL(s.mcpUrl), { authProvider: provider });
      await transport.finishAuth(code!);
      const client = new Client({ name: "browser-test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(s.mcpUrl), { authProvider: provider }));
      const invoices = (await client.callTool({
        name: "get_related_records",
        arguments: { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Invoices", fields: ["Subject"] },
      })) as CallToolResult;
      expect(invoices.isError).toBeFalsy();
      expect((invoices.structuredContent as { count: number }).count).toBe(DEMO.invoiceIds.length);
      await client.close();
      await page.close();
    },
    TIMEOUT,
  );
});
