import { ResourceTemplate, type McpServer, type RegisteredResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SUB_LISTS, type SubList } from "../format/links.js";
import { API_NAME, RECORD_ID, crmPath, type ZohoClient, type ZohoFile } from "../zoho/client.js";
import { ZohoError, emailNotFoundHint } from "../zoho/errors.js";
import { notInModule } from "../zoho/record-check.js";
import { invalidResourceUri } from "./advice.js";

export const SUB_RECORD_URI_TEMPLATE = "zohocrm://records/{module_api_name}/{record_id}/{related_list_api_name}/{related_record_id}";


/** An attachment's file or an email, as read under its parent record. */
export type SubRecord = { kind: "file"; file: ZohoFile } | { kind: "email"; email: Record<string, unknown> };

/**
 * The reader behind the sub-record template and get_record: an attachment's file
 * (`GET /crm/v7/{module}/{id}/Attachments/{attachment_id}`, FILE_TOO_LARGE above the cap) or one
 * email (`GET /crm/v7/{module}/{id}/Emails/{message_id}`, with the owner's `user_id` when the link
 * carries it). Ids are checked by the callers.
 */
export async function readSubRecord(client: ZohoClient, maxAttachmentBytes: number, module: string, id: string, list: SubList, sub: string, signal?: AbortSignal, userId?: string): Promise<SubRecord> {
  if (list === "Attachments") {
    let file: ZohoFile | undefined;
    try {
      file = await client.getFile(crmPath({ apiName: module }, { recordId: id }, { literal: "Attachments" }, { recordId: sub }), maxAttachmentBytes, { signal });
    } catch (error) {
      // The default INVALID_DATA advice is about related lists; here the record or the attachment is the miss,
      // named by its id or by its place in the path (Zoho's resource_path_index: 1 the record, 3 the attachment).
      if (error instanceof ZohoError && error.code === "INVALID_DATA" && error.details.param_name === undefined) {
        const { id: badId, resource_path_index: index } = error.details;
        if (badId === id || index === 1) throw notInModule(module, id, error);
        if (badId === sub || index === 3) throw notOnRecord(module, id, "Attachments", sub, error);
      }
      throw error;
    }
    // 204: "No Content - Invalid attachment ID" (Zoho's OpenAPI attachments.json).
    if (!file) throw notOnRecord(module, id, "Attachments", sub);
    return { kind: "file", file };
  }
  // user_id: "mandatory for viewing shared email id from others" (Zoho's View Email page).
  let body: Record<string, unknown> | null;
  try {
    ({ body } = await client.get(crmPath({ apiName: module }, { recordId: id }, { literal: "Emails" }, { literal: sub }), { signal, searchParams: { user_id: userId } }));
  } catch (error) {
    // The default INVALID_DATA advice is about related lists; here the email's owner is the likely miss.
    if (error instanceof ZohoError && error.code === "INVALID_DATA" && error.details.param_name === undefined) {
      // Zoho names the parent's id as the bad one: the record is not in the module.
      if (error.details.id === id) throw notInModule(module, id, error);
      throw new ZohoError({ status: error.status, code: error.code, message: error.message, details: error.details, hint: emailNotFoundHint(userId !== undefined), cause: error });
    }
    throw error;
  }
  const email = Array.isArray(body?.Emails) ? (body.Emails[0] as Record<string, unknown> | undefined) : undefined;
  // No content (204, which Zoho's OpenAPI lists for View Email) or no email in the answer.
  if (!email) throw notOnRecord(module, id, "Emails", sub, undefined, userId);
  return { kind: "email", email };
}

/**
 * An attachment or email id the record does not have, said plainly, with the call that lists what
 * the record has (each row with its link): not the related-list advice of a bare INVALID_DATA.
 */
function notOnRecord(module: string, id: string, list: SubList, sub: string, cause?: unknown, userId?: string): ZohoError {
  const what = list === "Attachments" ? `attachment with id ${sub}` : `email with message_id ${sub}`;
  const mailbox = userId ? ` in the mailbox of user ${userId}` : "";
  return new ZohoError({
    status: cause instanceof ZohoError ? cause.status : 204,
    code: "NOT_FOUND",
    message: `no ${what} is on ${module} record ${id}${mailbox}`,
    details: { module_api_name: module, record_id: id, [list === "Attachments" ? "attachment_id" : "message_id"]: sub },
    hint: `get_related_records with module_api_name "${module}", record_id "${id}" and related_list_api_name "${list}" lists the record's ${list === "Attachments" ? "attachments" : "emails"}, each with its link${list === "Emails" ? " (a colleague's email's link ends in ?user_id= its owner)" : ""}.`,
    cause,
  });
}

/** Zoho's message ids are long hex strings; anything path-safe of that kind is let through. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9._-]{1,256}$/;

/**
 * Records Zoho serves only under their parent (CONTRACT "Sub-record links"):
 * `.../Attachments/{attachment_id}` is the file itself (`GET /crm/v7/{module}/{id}/Attachments/{attachment_id}`),
 * a blob with Zoho's content type, refused above ZOHO_MAX_ATTACHMENT_BYTES;
 * `.../Emails/{message_id}` is the email (`GET /crm/v7/{module}/{id}/Emails/{message_id}`), as JSON;
 * a `?user_id={owner}` on it is sent to View Email, which needs it for an email of another user.
 */
export function registerSubRecordResource(
  server: McpServer,
  client: ZohoClient,
  maxAttachmentBytes: number,
  completeModule: (typed: string | undefined) => Promise<string[]>,
): RegisteredResourceTemplate {
  return server.registerResource(
    "zoho_sub_record",
    new ResourceTemplate(SUB_RECORD_URI_TEMPLATE, {
      list: undefined,
      complete: { module_api_name: completeModule, related_list_api_name: (typed) => SUB_LISTS.filter((l) => l.toLowerCase().startsWith((typed ?? "").toLowerCase())) },
    }),
    {
      title: "Zoho CRM attachment or email",
      description: `An attachment (the file, up to ${maxAttachmentBytes} bytes) or an email of a Zoho CRM record, read under the record: related_list_api_name is Attachments or Emails.`,
    },
    async (uri, variables, extra) => {
      const module = String(variables.module_api_name ?? "");
      const id = String(variables.record_id ?? "");
      const list = String(variables.related_list_api_name ?? "");
      // An email link may end in `?user_id={owner}` (the email's owner, for View Email): the
      // template's last variable then holds it too, so the id is what comes before the query.
      const [rawSub = "", query] = String(variables.related_record_id ?? "").split("?", 2);
      let sub: string;
      try {
        sub = decodeURIComponent(rawSub);
      } catch {
        sub = "";
      }
      const userId = new URLSearchParams(query ?? "").get("user_id") ?? undefined;
      // Bad input is JSON-RPC -32602 with the advice, as for the record template.
      if (!API_NAME.test(module)) throw invalidResourceUri(uri.href, "module_api_name must be a module API name: letters, digits and _ only");
      if (!RECORD_ID.test(id)) throw invalidResourceUri(uri.href, "record_id must be a Zoho record id: digits only");
      if (!SUB_LISTS.includes(list as SubList)) {
        throw invalidResourceUri(uri.href, "related_list_api_name must be Attachments or Emails (records Zoho serves only under their parent)");
      }
      try {
        if (list === "Attachments" && !RECORD_ID.test(sub)) throw invalidResourceUri(uri.href, "related_record_id must be an attachment id: digits only");
        if (list === "Emails" && !MESSAGE_ID_PATTERN.test(sub)) throw invalidResourceUri(uri.href, "related_record_id must be an email's message_id");
        if (userId !== undefined && !RECORD_ID.test(userId)) throw invalidResourceUri(uri.href, "user_id must be a Zoho user id: digits only");
        const read = await readSubRecord(client, maxAttachmentBytes, module, id, list as SubList, sub, extra.signal, userId);
        if (read.kind === "file") {
          const { file } = read;
          return { contents: [{ uri: uri.href, mimeType: file.contentType, blob: Buffer.from(file.bytes).toString("base64"), ...(file.fileName ? { _meta: { fileName: file.fileName } } : {}) }] };
        }
        return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(read.email, null, 1) }] };
      } catch (error) {
        // Resource reads have no isError result: the error's text is what the client shows.
        throw error instanceof ZohoError ? new Error(error.render()) : error;
      }
    },
  );
}
