/**
 * What an attachment is, beyond what Zoho's answer says. Zoho may send a file with a content type
 * that only says "download this" (`application/x-download`, which the SDKs' common_api_handler
 * lists among its download types, or `application/octet-stream`): a client shown that cannot open
 * a PDF as a PDF. The file's name (Content-Disposition) then tells the type. Link attachments
 * (`$type` "Link URL") have no file at all: their record carries the address in `$link_url`.
 */

/** Content types that name no format, only a download. */
const GENERIC_TYPES = new Set(["application/x-download", "application/octet-stream", "application/download", "application/force-download", "binary/octet-stream", "application/unknown"]);

/** Zoho's content type, or the one the file name implies when Zoho's is generic. */
export async function attachmentContentType(sent: string, fileName: string | undefined): Promise<string> {
  const base = sent.split(";")[0]!.trim().toLowerCase();
  if (!fileName || !GENERIC_TYPES.has(base)) return sent;
  // mime's table (standard and vendor types, Office's included): loaded only for the files that need it.
  const { default: mime } = await import("mime");
  return mime.getType(fileName) ?? sent;
}

/** A link attachment's address (`$link_url`), when it is an http(s) URL a client can open; else undefined. */
export function linkUrlOf(record: Record<string, unknown>): string | undefined {
  const url = record.$link_url;
  if (typeof url !== "string" || !URL.canParse(url)) return undefined;
  if (record.$type !== undefined && record.$type !== "Link URL") return undefined;
  const { protocol } = new URL(url);
  return protocol === "https:" || protocol === "http:" ? url : undefined;
}
