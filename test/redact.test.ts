import { describe, expect, it } from "vitest";
import { MAX_REMEMBERED_ACCESS_TOKENS, redact, registerSecret, rememberedSecretCount } from "../src/log.js";

describe("redaction of secrets", () => {
  it("keeps the configured secrets for good and only the newest access tokens, so a long-running process does not grow one entry an hour", () => {
    registerSecret("client-secret-0123456789");
    const tokens = Array.from({ length: 100 }, (_, i) => `1000.access-token-${String(i).padStart(4, "0")}`);
    for (const token of tokens) registerSecret(token, "access-token");

    expect(rememberedSecretCount()).toBe(1 + MAX_REMEMBERED_ACCESS_TOKENS);
    expect(MAX_REMEMBERED_ACCESS_TOKENS).toBe(32);
    expect(redact("secret client-secret-0123456789 here")).toBe("secret [redacted] here");
    // The newest token is hidden; the oldest, long expired, is no longer checked.
    expect(redact(`Zoho-oauthtoken ${tokens[99]}`)).toBe("Zoho-oauthtoken [redacted]");
    expect(redact(`Zoho-oauthtoken ${tokens[0]}`)).toBe(`Zoho-oauthtoken ${tokens[0]}`);
  });

  it("a token registered again counts as new, not twice", () => {
    const before = rememberedSecretCount();
    registerSecret("1000.access-token-0099", "access-token");
    registerSecret("1000.access-token-0099", "access-token");
    expect(rememberedSecretCount()).toBe(before);
    registerSecret("short", "access-token");
    expect(rememberedSecretCount()).toBe(before);
  });
});
