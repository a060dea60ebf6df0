import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadConfig } from "../src/config.js";
import { Logger } from "../src/log.js";
import { TokenManager } from "../src/zoho/auth.js";
import { CANARY } from "./helpers.js";

/** An accounts server that answers whatever the test puts in `next`, counting requests. */
let server: Server;
let url: string;
let next: { status: number; type: string; body: string };
let requests = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    req.resume();
    res.writeHead(next.status, { "content-type": next.type }).end(next.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const tokens = () =>
  new TokenManager(
    loadConfig({ ZOHO_CLIENT_ID: CANARY.clientId, ZOHO_CLIENT_SECRET: CANARY.clientSecret, ZOHO_REFRESH_TOKEN: CANARY.refreshToken, ZOHO_ACCOUNTS_URL: url }),
    new Logger(false),
  );
const failure = (t: TokenManager) => t.get().then(() => undefined, (e: unknown) => e as { code: string; message: string; status?: number });

test("an outage page from the accounts server is a clear TOKEN_REFRESH_FAILED, not remembered", async () => {
  const t = tokens();
  next = { status: 503, type: "text/html", body: "<html><body>Service Unavailable</body></html>" };
  requests = 0;
  const error = await failure(t);
  expect(error).toMatchObject({ code: "TOKEN_REFRESH_FAILED", status: 503 });
  expect(error?.message).toContain("answered HTTP 503 without a JSON body");
  next = { status: 200, type: "application/json", body: "null" };
  expect(await failure(t)).toMatchObject({ code: "TOKEN_REFRESH_FAILED", status: 200 });
  expect(requests).toBe(2); // the outage was not remembered: the second call asked again
  next = { status: 200, type: "application/json", body: JSON.stringify({ access_token: "1000.fresh.token", expires_in: 3600, api_domain: url }) };
  expect(await t.get()).toBe("1000.fresh.token");
});

test("Zoho's verdict on the credentials (HTTP 200 with error) is remembered: no second request", async () => {
  const t = tokens();
  next = { status: 200, type: "application/json", body: JSON.stringify({ error: "invalid_code" }) };
  requests = 0;
  const error = await failure(t);
  expect(error).toMatchObject({ code: "TOKEN_REFRESH_FAILED" });
  expect(error?.message).toContain("refused the refresh token (invalid_code)");
  expect(error?.message).not.toContain(CANARY.clientSecret);
  expect(error?.message).not.toContain(CANARY.refreshToken);
  expect(await failure(t)).toMatchObject({ code: "TOKEN_REFRESH_FAILED" });
  expect(requests).toBe(1);
});
