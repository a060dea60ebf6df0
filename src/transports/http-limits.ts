import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_PER_PAGE } from "../zoho/related-records.js";

/**
 * The bounds of what one HTTP request may cost: its body, the messages of a JSON-RPC batch, and
 * the Zoho records all of those messages may fetch together.
 */

/** Most messages one JSON-RPC batch may hold (the SDK's own ceiling is 100). */
export const MAX_BATCH_MESSAGES = 20;
/**
 * After a 413, what is read and thrown away before the connection is cut (nginx's lingering
 * close): past either bound a client still sending gets a reset, as it would from nginx.
 */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 30_000;
/**
 * After any other answer given before the body was read (401, 403, 404, 405, a sign-in endpoint's
 * 400): Node would read and drop the rest with no bound at all. What a client may still send then,
 * enough for any body a real client sends (the cap is 1 MiB) to end in the answer, not a reset.
 */
export const EARLY_DRAIN_MAX_BYTES = 4 * 1024 * 1024;
const EARLY_DRAIN_MAX_MS = 10_000;

/**
 * The sign-in endpoints' bodies (a form, a client registration: a few hundred bytes): a declared
 * length over this is refused before any parser runs. Express's parsers would answer 413 only
 * after reading the whole body, however large.
 */
export const SIGN_IN_MAX_BODY_BYTES = 64 * 1024;

/**
 * Counts every body byte of a request as Node's HTTP parser hands it over, whoever reads it (our
 * readBody, Express's parsers, discardRest), and cuts the connection past `maxBytes`. It counts
 * at `push`, the one place every chunk passes, because a "data" listener would itself consume the
 * body and take it from the parser that comes later.
 */
export function capBody(req: IncomingMessage, maxBytes: number): void {
  let seen = 0;
  const push = req.push;
  req.push = function (chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined) {
      seen += (chunk as Buffer).length;
      if (seen > maxBytes) {
        req.socket.destroy();
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
}

export type Body = { json: unknown } | { tooLarge: true } | { invalid: string };

/**
 * Reads the body up to `max` bytes. Past it, the answer is a 413 *before* the connection closes,
 * and the rest is read and discarded (up to DRAIN_MAX_BYTES or DRAIN_MAX_MS): a client still
 * sending (Node's fetch, and so the SDK's HTTP client) otherwise sees EPIPE instead of the 413.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve({ tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (over) return;
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve({ json: JSON.parse(text) });
      } catch {
        resolve({ invalid: "Parse error: Invalid JSON" });
      }
    });
    req.on("error", () => resolve({ invalid: "the request body could not be read" }));
  });
}

/**
 * Answers first, then keeps reading (and dropping) what the client still sends. No `Connection:
 * close` here: with it Node ends the socket as soon as the answer is out, while the client is still
 * writing, and Node's fetch reports EPIPE instead of the 413. Without it Node reads the rest of the
 * body itself before the connection can be reused; the bounds cut it short of a client that never stops.
 */
export function answerThenDrain(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  // A client that asked first (Expect: 100-continue) and was not told to go on has sent no body: close.
  const waiting = /100-continue/i.test(req.headers.expect ?? "") && !req.readableDidRead;
  res.writeHead(status, { "content-type": "application/json", ...(waiting ? { connection: "close" } : {}) });
  res.end(body);
  if (waiting) return;
  discardRest(req, DRAIN_MAX_BYTES, DRAIN_MAX_MS);
}

const discarding = new WeakSet<IncomingMessage>();

/**
 * Reads and drops what is left of a request body whose answer is already out, up to `maxBytes`
 * and `maxMs`; past either the connection is cut. For every request (transports/http.ts calls it
 * once the answer is sent): nothing is left to read after a normal answer.
 */
export function discardRest(req: IncomingMessage, maxBytes = EARLY_DRAIN_MAX_BYTES, maxMs = EARLY_DRAIN_MAX_MS): void {
  // The first bounds set stand (a 413's are wider than the general ones).
  if (req.complete || req.destroyed || discarding.has(req)) return;
  discarding.add(req);
  let drained = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, maxMs);
  timer.unref();
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > maxBytes) cut();
  });
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
  req.resume();
}

type Message = { method?: unknown; params?: { name?: unknown; arguments?: Record<string, unknown> } };

/**
 * The most records a tools/call may fetch, read off its arguments as the tools will read them
 * (bad arguments are refused later, by the tool, at no cost): a walk its max_records (default
 * 200), one page its per_page (default 200), an overview up to the cap (its lists are only known
 * from Zoho's metadata), list_related_lists none.
 */
export function recordsAsked(message: Message, cap: number): number {
  if (message.method !== "tools/call") return 0;
  const name = message.params?.name;
  const args = message.params?.arguments ?? {};
  const n = (v: unknown, fallback: number) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback);
  if (name === "get_related_overview") return cap;
  if (name === "get_related_records" || name === "get_open_activities" || name === "get_closed_activities") {
    const onePage = args.page !== undefined || args.page_token !== undefined;
    return Math.min(cap, onePage ? n(args.per_page, MAX_PER_PAGE) : n(args.max_records, 200));
  }
  return 0;
}

/**
 * A batch over MAX_BATCH_MESSAGES, or whose calls together may fetch more than ZOHO_MAX_RECORDS
 * (the most one call may fetch): the reason, else undefined. One message is never refused here.
 */
export function batchRefusal(json: unknown, cap: number): string | undefined {
  if (!Array.isArray(json)) return undefined;
  if (json.length > MAX_BATCH_MESSAGES) {
    return `Invalid Request: a JSON-RPC batch may hold at most ${MAX_BATCH_MESSAGES} messages (this one has ${json.length}); send the rest in another request`;
  }
  const asked = json.reduce((sum: number, m) => sum + recordsAsked((m ?? {}) as Message, cap), 0);
  if (asked > cap) {
    return `Invalid Request: the tool calls of one batch may fetch at most ZOHO_MAX_RECORDS (${cap}) records together, as one call may; these may fetch up to ${asked}. Send them in separate requests`;
  }
  return undefined;
}
