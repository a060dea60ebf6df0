import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { redact } from "../src/log.js";
import { loadSignInSettings, parseTrustProxy } from "../src/oauth/http.js";
import { startSignInServer } from "./oauth-helpers.js";
import { authorizeUrl, pkce, register } from "./oauth-raw.js";

/** Rate limits per client (behind the proxies MCP_TRUST_PROXY names), and the sealing secret's quality. */

async function authorizeFrom(url: string, forwardedFor: string): Promise<number> {
  return (await fetch(url, { redirect: "manual", headers: { "x-forwarded-for": forwardedFor } })).status;
}

async function tokenAttempt(origin: string, clientId: string): Promise<number> {
  const response = await fetch(`${origin}/token`, { method: "POST", body: new URLSearchParams({ grant_type: "refresh_token", client_id: clientId, refresh_token: "not-a-token" }) });
  return response.status;
}

describe("rate limits", () => {
  it("/token counts per client: one client hammering it from an address leaves the others at that address alone", async () => {
    const s = await startSignInServer({ settings: { rateLimit: { token: 3 } } });
    try {
      const noisy = await register(s.origin);
      const quiet = await register(s.origin);
      expect([await tokenAttempt(s.origin, noisy), await tokenAttempt(s.origin, noisy), await tokenAttempt(s.origin, noisy)]).toEqual([400, 400, 400]);
      expect(await tokenAttempt(s.origin, noisy)).toBe(429);
      expect(await tokenAttempt(s.origin, quiet)).toBe(400);
    } finally {
      await s.close();
    }
  });

  it("behind a trusted proxy each client address has its own bucket; an untrusted peer's X-Forwarded-For is ignored", async () => {
    // The test's requests come from 127.0.0.1: as a proxy named by hop count, and as a peer not named.
    for (const [trustProxy, separate] of [[1, true], [["10.0.0.0/8"], false]] as const) {
      const s = await startSignInServer({ settings: { rateLimit: { authorize: 2 }, trustProxy: trustProxy as number | string[] } });
      try {
        const url = authorizeUrl(s.origin, await register(s.origin), pkce().challenge);
        expect([await authorizeFrom(url, "203.0.113.5"), await authorizeFrom(url, "203.0.113.5"), await authorizeFrom(url, "203.0.113.5")]).toEqual([200, 200, 429]);
        expect(await authorizeFrom(url, "198.51.100.7"), String(trustProxy)).toBe(separate ? 200 : 429);
      } finally {
        await s.close();
      }
    }
  });

  it("MCP_TRUST_PROXY: a hop count, or addresses, CIDRs and keywords; anything else names the variable", () => {
    expect(parseTrustProxy(undefined)).toBe(0);
    expect(parseTrustProxy(" ")).toBe(0);
    expect(parseTrustProxy("1")).toBe(1);
    expect(parseTrustProxy("0")).toBe(0);
    expect(parseTrustProxy("10.0.0.0/8, 192.168.1.10 ,fd00::/8,loopback")).toEqual(["10.0.0.0/8", "192.168.1.10", "fd00::/8", "loopback"]);
    for (const bad of ["true", "*", "11", "10.0.0.0/33", "lb.example.com", "10.0.0.1/8/9", "::1/129"]) {
      expect(() => parseTrustProxy(bad), bad).toThrow(/^MCP_TRUST_PROXY/);
    }
    expect(loadSignInSettings({ MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: randomBytes(32).toString("base64"), MCP_TRUST_PROXY: "2" }, { demo: false }).trustProxy).toBe(2);
  });
});

describe("MCP_OAUTH_SECRET", () => {
  const env = (secret: string) => ({ MCP_PUBLIC_URL: "https://crm.example.com", MCP_OAUTH_SECRET: secret });
  it("refuses zeros, repeated or typed secrets, naming the variable and how to make one", () => {
    for (const weak of [Buffer.alloc(32).toString("base64"), Buffer.alloc(48, 7).toString("base64"), "a".repeat(44), Buffer.from("passwordpasswordpasswordpassword").toString("base64")]) {
      expect(() => loadSignInSettings(env(weak), { demo: false }), weak).toThrow(/^MCP_OAUTH_SECRET is not random enough .*openssl rand -base64 32$/);
    }
  });

  it("takes a random one, and never lets it into output", () => {
    const secret = randomBytes(32).toString("base64");
    expect(loadSignInSettings(env(secret), { demo: false }).secret).toHaveLength(32);
    expect(redact(`secret is ${secret}`)).toBe("secret is [redacted]");
  });
});
