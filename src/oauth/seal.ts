import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { EncryptJWT, jwtDecrypt, type JWTPayload } from "jose";

/**
 * Everything the authorization server hands out is sealed: a JWE (`dir` + `A256GCM`, authenticated
 * encryption) under a key derived from MCP_OAUTH_SECRET. Sealed blobs replace a session store:
 * any replica with the same secret opens them, nobody without it can read or forge one.
 *
 * Each purpose has its own key (HKDF with the purpose as `info`), so a blob sealed for one use
 * (say, an authorization code) cannot be replayed as another (an access token), whatever it holds.
 */
export type Purpose = "client" | "consent" | "code" | "access" | "refresh";

const HKDF_SALT = "zoho-crm-related-mcp oauth v1";

export class Sealer {
  private readonly keys = new Map<Purpose | "client-secret" | "csrf", Uint8Array>();

  /** `secret`: the decoded MCP_OAUTH_SECRET (at least 32 bytes); `issuer`: MCP_PUBLIC_URL. */
  constructor(
    secret: Uint8Array,
    readonly issuer: string,
  ) {
    if (secret.length < 32) throw new Error("the sealing secret must be at least 32 bytes");
    for (const purpose of ["client", "consent", "code", "access", "refresh", "client-secret", "csrf"] as const) {
      this.keys.set(purpose, new Uint8Array(hkdfSync("sha256", secret, HKDF_SALT, purpose, 32)));
    }
  }

  /** Seals `claims` for `purpose`, readable until `ttlSeconds` from now (none: no expiry). */
  async seal(purpose: Purpose, claims: Record<string, unknown>, options: { ttlSeconds?: number; audience?: string } = {}): Promise<string> {
    const jwt = new EncryptJWT(claims).setProtectedHeader({ alg: "dir", enc: "A256GCM" }).setIssuer(this.issuer).setIssuedAt();
    if (options.audience) jwt.setAudience(options.audience);
    if (options.ttlSeconds !== undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds);
    return jwt.encrypt(this.key(purpose));
  }

  /**
   * Opens a blob sealed for `purpose`; undefined for anything else: garbage, another purpose,
   * another secret, another issuer or audience, tampered or expired. The caller says what that
   * means in its own protocol (invalid_grant, invalid_token...), so no reason is returned.
   */
  async open<T extends Record<string, unknown>>(purpose: Purpose, blob: string, options: { audience?: string } = {}): Promise<(T & JWTPayload) | undefined> {
    if (typeof blob !== "string" || blob.length > 16_384 || blob.split(".").length !== 5) return undefined;
    try {
      const { payload } = await jwtDecrypt(blob, this.key(purpose), {
        issuer: this.issuer,
        ...(options.audience ? { audience: options.audience } : {}),
        keyManagementAlgorithms: ["dir"],
        contentEncryptionAlgorithms: ["A256GCM"],
      });
      return payload as T & JWTPayload;
    } catch {
      return undefined;
    }
  }

  /** A confidential client's secret, derived from its client_id: nothing to store. */
  clientSecret(clientId: string): string {
    return createHmac("sha256", this.key("client-secret")).update(clientId).digest("base64url");
  }

  /** An HMAC over `value` for the consent page's CSRF cookie. */
  mac(value: string): string {
    return createHmac("sha256", this.key("csrf")).update(value).digest("base64url");
  }

  private key(purpose: Purpose | "client-secret" | "csrf"): Uint8Array {
    return this.keys.get(purpose)!;
  }
}

/** Constant-time string comparison (equal lengths compared in constant time; lengths may leak). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
