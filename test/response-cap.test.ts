// An answer too large to hold: the client stops reading it at its cap instead of buffering it all.
// A real HTTP server on 127.0.0.1 streams an endless attachment (chunked, no Content-Length).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { loadConfig } from "../src/config.js";
import { Logger } from "../src/log.js";
import { ZohoClient } from "../src/zoho/client.js";
import { ZohoError } from "../src/zoho/errors.js";

let server: Server;
let url: string;
let sent = 0;
let closed: Promise<void>;

beforeAll(async () => {
  let onClosed!: () => void;
  closed = new Promise((resolve) => (onClosed = resolve));
  server = createServer((req, res) => {
    // Zoho's download headers, without Content-Length: the size is known only by reading.
    res.writeHead(200, { "content-type": "application/x-download", "content-disposition": 'attachment; filename="Site%20Survey.pdf"' });
    const chunk = Buffer.alloc(64 * 1024, 7);
    // Writes until the client hangs up: an answer with no end.
    const pump = () => {
      while (!res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
    };
    res.once("close", onClosed);
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("an endless attachment is cut at the client's read cap and reported as FILE_TOO_LARGE, not buffered", async () => {
  const config = loadConfig({ ZOHO_ACCESS_TOKEN: "1000.static-test-token", ZOHO_API_DOMAIN: url, ZOHO_MAX_ATTACHMENT_BYTES: "1000" });
  const client = new ZohoClient(config, new Logger(false));
  const error = await client.getFile("Leads/1/Attachments/2", 1000).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ZohoError);
  expect((error as ZohoError).code).toBe("FILE_TOO_LARGE");
  expect((error as ZohoError).message).toBe("the file is more than 16777216 bytes, above the 1000-byte cap (ZOHO_MAX_ATTACHMENT_BYTES)");
  // It still says what it is, as a file refused on its Content-Length does: get_record names it so.
  expect((error as ZohoError).details).toEqual({ file_name: "Site Survey.pdf", content_type: "application/pdf" });
  await closed;
  // The server got no further than the cap plus what sat in the socket buffers when the client hung up.
  expect(sent).toBeGreaterThan(16 * 1024 * 1024);
  expect(sent).toBeLessThan(24 * 1024 * 1024);
});
