import type { ResourceLink } from "@modelcontextprotocol/sdk/types.js";
import { linkUrlOf } from "../zoho/attachments.js";
import type { ZohoRecord } from "../zoho/related-records.js";
import { moduleOf, resourceLink, shownId } from "./records.js";

/**
 * Which link each record of a related list gets. Zoho serves most related records through Get
 * Record (`zohocrm://records/{module}/{id}`); Attachments and Emails only under their parent
 * (`zohocrm://records/{module}/{record_id}/{Attachments|Emails}/{id}`); records of a list with no
 * module of its own (Stage_History...) through neither, so they get no link and the text says why.
 */
export type LinkPlan =
  | { kind: "record" }
  | { kind: "sub"; list: SubList }
  | { kind: "none"; why: string };

/** The lists whose records Zoho serves under the parent record only. */
export const SUB_LISTS = ["Attachments", "Emails"] as const;
export type SubList = (typeof SUB_LISTS)[number];

/** Lists known to have no module of their own, for when the related-list metadata is unavailable. */
const NO_OWN_MODULE = new Set(["Stage_History"]);

/**
 * `hasOwnModule`: what the Related List Metadata says (true: it names the records' module; false:
 * it names none); undefined when the metadata is unavailable or not consulted (activity views,
 * whose rows carry their own $module).
 */
export function linkPlan(relatedListApiName: string, hasOwnModule: boolean | undefined, grouped: boolean): LinkPlan {
  const sub = SUB_LISTS.find((l) => l === relatedListApiName);
  if (sub) return { kind: "sub", list: sub };
  if (grouped) return { kind: "record" };
  if (hasOwnModule === false || (hasOwnModule === undefined && NO_OWN_MODULE.has(relatedListApiName))) {
    return { kind: "none", why: `${relatedListApiName} records have no links: Zoho has no Get Record endpoint for them (the list has no module of its own).` };
  }
  return { kind: "record" };
}

export function subRecordUri(parentModule: string, parentId: string, list: SubList, id: string, userId?: string): string {
  const query = userId ? `?user_id=${userId}` : "";
  return `zohocrm://records/${parentModule}/${parentId}/${list}/${encodeURIComponent(id)}${query}`;
}

/**
 * The owner of an email row (`owner.id`), digits only. View Email needs it as `user_id` to read an
 * email of another user's mailbox (Zoho's view-email page), so the link carries it.
 */
function emailOwner(record: ZohoRecord): string | undefined {
  const id = (record.owner as { id?: unknown } | undefined)?.id;
  return typeof id === "string" && /^\d{1,30}$/.test(id) ? id : undefined;
}

/** The link of one record under `plan`, or undefined when the plan gives none. */
export function linkFor(record: ZohoRecord, plan: LinkPlan, parentModule: string, parentId: string, listModule: string): ResourceLink | undefined {
  switch (plan.kind) {
    case "none":
      return undefined;
    case "record":
      return resourceLink(record, moduleOf(record, listModule));
    case "sub": {
      // A link attachment has no file to download: its link is the address it names.
      const linkUrl = plan.list === "Attachments" ? linkUrlOf(record) : undefined;
      if (linkUrl) return { type: "resource_link", uri: linkUrl, name: shownId(record.id), description: "Link URL attachment: the address itself, no file" };
      // Named as the row shows the id: a 64-character message_id paid twice (uri and name) per email is
      // most of an overview's characters; the whole id is in the uri.
      const userId = plan.list === "Emails" ? emailOwner(record) : undefined;
      const link: ResourceLink = { type: "resource_link", uri: subRecordUri(parentModule, parentId, plan.list, record.id, userId), name: shownId(record.id) };
      // An email reads as JSON; an attachment as the file, whose type only the download says.
      if (plan.list === "Emails") link.mimeType = "application/json";
      return link;
    }
  }
}
