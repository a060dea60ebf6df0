import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { SubList } from "../format/links.js";
import { NAME_FIELDS } from "./default-fields.js";
import { formatValue } from "../format/records.js";
import { webAddresses } from "../format/web.js";
import { RECORD_URI_ADVICE } from "../resources/advice.js";
import { readRecord } from "../resources/record.js";
import { MESSAGE_ID_PATTERN, readSubRecord, type SubRecord } from "../resources/sub-record.js";
import { InputError, ZohoError } from "../zoho/errors.js";
import { resolveModule } from "../zoho/modules.js";
import { resolveRecord } from "./record-ref.js";
import { moduleName, recordReference } from "./schemas.js";
import { defineTool } from "./types.js";

/** The links results hand out: a record, or an attachment or email under its record. */
const LINK = /^zohocrm:\/\/records\/([A-Za-z][A-Za-z0-9_]{0,99})\/(\d{1,30})(?:\/(Attachments|Emails)\/([^/?#]{1,800})(?:\?user_id=(\d{1,30}))?)?$/;

/** Types read as text: what a model can read as it is. */
const TEXT_TYPE = /^(text\/|application\/(json|xml|csv|x-csv|javascript|x-yaml|yaml)\b|application\/[\w.+-]*\+(json|xml)\b)/i;

const input = z
  .object({
    uri: z.string().refine((u) => u.length >= 1 && u.length <= 1000, { error: "must be 1 to 1000 characters" }).optional().describe("A zohocrm:// link from a result"),
    module_api_name: moduleName.optional(),
    record_id: recordReference().optional(),
  })
  .superRefine((args, ctx) => {
    if ((args.uri === undefined) === (args.record_id === undefined)) {
      ctx.addIssue({ code: "custom", path: ["uri"], message: "give uri, or record_id (with module_api_name unless it is a web address), not both and not neither" });
    }
    if (args.uri !== undefined && args.module_api_name !== undefined) {
      ctx.addIssue({ code: "custom", path: ["module_api_name"], message: "module_api_name goes with record_id; a uri names its module itself" });
    }
  });

export const getRecord = defineTool({
  name: "get_record",
  title: "Read a record, email or attachment",
  description:
    "One Zoho CRM record in full (non-empty fields, web address), or the email or attachment behind a zohocrm:// link: for clients that cannot read resources.",
  inputSchema: input,
  handler: async (args, extra, deps) => {
    let target: { module: string; id: string; list?: SubList; sub?: string; userId?: string };
    if (args.uri !== undefined) {
      const m = LINK.exec(args.uri.trim());
      if (!m) throw new InputError(`uri: ${JSON.stringify(args.uri.slice(0, 200))} is not a zohocrm:// link a result gave. ${RECORD_URI_ADVICE}`);
      let sub: string | undefined;
      try {
        sub = m[4] === undefined ? undefined : decodeURIComponent(m[4]);
      } catch {
        throw new InputError("uri: its last part is not validly encoded");
      }
      const list = m[3] as SubList | undefined;
      if (list === "Attachments" && !/^\d{1,30}$/.test(sub ?? "")) throw new InputError("uri: an attachment id is digits only");
      if (list === "Emails" && !MESSAGE_ID_PATTERN.test(sub ?? "")) throw new InputError("uri: that is not an email's message_id");
      // An email link carries its owner (?user_id=): View Email needs it for a colleague's email.
      if (m[5] !== undefined && list !== "Emails") throw new InputError("uri: only an email link carries user_id");
      target = { module: await resolveModule(m[1]!, deps.modules, "uri"), id: m[2]!, ...(list ? { list, sub: sub! } : {}), ...(m[5] ? { userId: m[5] } : {}) };
    } else {
      const ref = await resolveRecord({ module_api_name: args.module_api_name, record_id: args.record_id! }, deps);
      target = { module: ref.module_api_name, id: ref.record_id };
    }

    const web = webAddresses(deps.config, deps.client, deps.modules);
    const read = await (target.list
      ? readSubRecord(deps.client, deps.config.maxAttachmentBytes, target.module, target.id, target.list, target.sub!, extra.signal, target.userId).catch((error: unknown) => {
          if (error instanceof ZohoError && error.code === "FILE_TOO_LARGE") return error;
          throw error;
        })
      : readRecord(deps.client, target.module, target.id, extra.signal));
    const base = await web.base(target.module);
    const address = base ? `${base}/${target.id}` : undefined;
    const where = `${target.module} ${target.id}${address ? ` (${address})` : ""}`;
    const cap = deps.config.resultMaxChars;

    if (read instanceof ZohoError) {
      // Too big to hand over inline: say what it is and where to open it instead of failing.
      const { file_name: fileName, content_type: type } = read.details as { file_name?: string; content_type?: string };
      const what = fileName ? `${fileName} (${[type, `id ${target.sub}`].filter(Boolean).join(", ")})` : `${target.sub}${type ? ` (${type})` : ""}`;
      return { content: [{ type: "text", text: `Attachment ${what} of ${where} is not inlined: ${read.message}. Open it in Zoho CRM, or raise ZOHO_MAX_ATTACHMENT_BYTES.` }] };
    }
    if (!isSubRecord(read)) {
      const name = NAME_FIELDS.map((f) => formatValue(read[f])).find(Boolean);
      const json = JSON.stringify(read, null, 1);
      const head = `${name ? `${name}: ` : ""}${where}`;
      const text = head.length + json.length + 1 > cap ? `${head}\n${json.slice(0, cap - head.length - 120)}…\n(cut at ZOHO_RESULT_MAX_CHARS, ${cap} characters: the whole record is in structuredContent)` : `${head}\n${json}`;
      return { content: [{ type: "text", text }], structuredContent: { ...read, $module: target.module, ...(address ? { $web_url: address } : {}) } };
    }
    if (read.kind === "email") return emailResult(read.email, where, cap);
    const { file } = read;
    const type = file.contentType.split(";")[0]!.trim().toLowerCase();
    const label = `Attachment ${file.fileName ?? target.sub} of ${where}: ${type}, ${file.bytes.byteLength} bytes`;
    const uri = `zohocrm://records/${target.module}/${target.id}/Attachments/${target.sub}`;
    const data = Buffer.from(file.bytes).toString("base64");
    if (TEXT_TYPE.test(type)) {
      const body = new TextDecoder().decode(file.bytes);
      return { content: [{ type: "text", text: `${label}\n${body.length > cap ? `${body.slice(0, cap)}…\n(cut at ZOHO_RESULT_MAX_CHARS, ${cap} characters)` : body}` }] };
    }
    if (type.startsWith("image/")) return { content: [{ type: "text", text: label }, { type: "image", data, mimeType: type }] };
    return { content: [{ type: "text", text: label }, { type: "resource", resource: { uri, mimeType: type, blob: data } }] };
  },
});

function isSubRecord(read: Record<string, unknown> | SubRecord): read is SubRecord {
  return (read.kind === "file" && "file" in read) || (read.kind === "email" && "email" in read);
}

/** An email as a person reads it: who, when, the subject, then the body as text. */
function emailResult(email: Record<string, unknown>, where: string, cap: number): CallToolResult {
  const who = (v: unknown) => formatValue(Array.isArray(v) ? v.map((p) => (p as { email?: unknown }).email ?? p) : ((v as { email?: unknown })?.email ?? v));
  const lines = [
    `Email of ${where}: ${formatValue(email.subject) ?? "(no subject)"}`,
    `From: ${who(email.from) ?? "?"}`,
    `To: ${who(email.to) ?? "?"}`,
    ...(formatValue(email.cc) ? [`Cc: ${who(email.cc)}`] : []),
    `Sent: ${formatValue(email.sent_time ?? email.time) ?? "?"}`,
    "",
    htmlToText(typeof email.content === "string" ? email.content : ""),
  ];
  const text = lines.join("\n");
  return { content: [{ type: "text", text: text.length > cap ? `${text.slice(0, cap)}…` : text }], structuredContent: email };
}

/** Zoho sends an email's body as HTML: line breaks kept, tags dropped, the common entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(br|\/p|\/div|\/li|\/tr|\/h\d)\b[^>]*>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
