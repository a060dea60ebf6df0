import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { parseWebAddress } from "../format/web.js";
import { moduleApiName } from "../tools/schemas.js";

/** What a person has in hand: a record id, a web address, or something to search for. */
type Kind = "id" | "address" | "email" | "phone" | "word";

function kindOf(record: string): Kind {
  const r = record.trim();
  if (/^\d{10,30}$/.test(r)) return "id";
  if (parseWebAddress(r)) return "address";
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(r)) return "email";
  if (/^\+?[\d\s().-]{7,}$/.test(r) && (r.match(/\d/g) ?? []).length >= 7) return "phone";
  return "word";
}

/**
 * The steps a model follows to answer "what's related to X?" with the fewest calls. X is what the
 * person has: a record id, the record's Zoho CRM web address, or a name, email or phone, which
 * are searched first. `generic`: one text for every kind (the .mcpb manifest's static prompt).
 */
export function whatsRelatedText(record: string, module?: string, generic = false): string {
  const kind = generic ? undefined : kindOf(record);
  const inModule = module ? ` in ${module}` : "";
  const overview = (what: string) =>
    `Call get_related_overview with ${what}. One call returns every visible related list with its count ("N+" means more than N) and its first records.`;
  const search = (param: string) =>
    `Call search_records with ${param} "${record}"${module ? ` and module_api_name "${module}"` : " (no module_api_name: it searches Leads, Contacts, Accounts and Deals at once)"}. If several records match, pick the one the person means (ask when unsure; a converted lead and its contact are the same person), then ${overview("that row's module as module_api_name and its id as record_id").replace(/^Call/, "call")}`;
  const first =
    kind === "id"
      ? overview(module ? `module_api_name "${module}" and record_id "${record}"` : `record_id "${record}" and its module_api_name (ask which module it is in if you do not know)`)
      : kind === "address"
        ? overview(`record_id "${record}" (the web address names the module)`)
        : kind
          ? search(kind)
          : `If "${record}" is a record id or a Zoho CRM web address, ${overview(`record_id "${record}"${module ? ` and module_api_name "${module}"` : ""}`).replace(/^Call/, "call")} Otherwise it is a name, email or phone: ${search("word, email or phone").replace(/^Call/, "call")}`;
  return [
    `What is related to the Zoho CRM record "${record}"${inModule}?`,
    "",
    `1. ${first}`,
    "2. For a list that matters and has more records than shown, call get_related_records with its related_list_api_name (add fields to choose columns). For calls, tasks and meetings use get_open_activities or get_closed_activities.",
    "3. To read one record, email or attachment in full, call get_record with its zohocrm:// link as uri (or read the link as a resource).",
    "4. Lists marked not readable need a permission or OAuth scope from the CRM administrator: mention them, do not retry them.",
    "",
    "Answer with a short summary per list: how many records, the most recent or important ones, and anything that needs attention (open tasks, upcoming meetings, deal stages). Give the record's web address so the person can open it.",
  ].join("\n");
}

export function registerWhatsRelatedPrompt(server: McpServer, completeModule: (typed: string | undefined) => Promise<string[]>): void {
  // completable() marks the schema object itself (once only): each server gets its own copy, so
  // the tools' shared module_api_name schema stays untouched.
  const moduleArgument = completable(moduleApiName.clone().describe("Its module, e.g. Leads, when record is an id").optional(), (typed) => completeModule(typed));
  server.registerPrompt(
    "whats_related",
    {
      title: "What's related to this record?",
      description: "Summarise everything related to a Zoho CRM record, named by a name, email, phone, web address or id: search first, then the overview and the detail tools.",
      argsSchema: {
        record: z.string().trim().min(1).max(2000).describe("A name, email, phone, Zoho CRM web address or record id"),
        module_api_name: moduleArgument,
      },
    },
    ({ record, module_api_name }) => ({
      messages: [{ role: "user", content: { type: "text", text: whatsRelatedText(record, module_api_name) } }],
    }),
  );
}
