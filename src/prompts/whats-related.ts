import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { moduleApiName, recordId } from "../tools/schemas.js";

/** The steps a model follows to answer "what's related to this record?" with the fewest calls. */
export function whatsRelatedText(module: string, id: string): string {
  return [
    `What is related to the Zoho CRM ${module} record ${id}?`,
    "",
    `1. Call get_related_overview with module_api_name "${module}" and record_id "${id}". One call returns every visible related list with its count ("N+" means more than N) and its first records.`,
    "2. For a list that matters and has more records than shown, call get_related_records with its related_list_api_name (add fields to choose columns). For calls, tasks and meetings use get_open_activities or get_closed_activities.",
    "3. To read one record in full, read its zohocrm://records/{module}/{id} resource link.",
    "4. Lists marked not readable need a permission or OAuth scope from the CRM administrator: mention them, do not retry them.",
    "",
    "Answer with a short summary per list: how many records, the most recent or important ones, and anything that needs attention (open tasks, upcoming meetings, deal stages).",
  ].join("\n");
}

export function registerWhatsRelatedPrompt(server: McpServer, completeModule: (typed: string | undefined) => Promise<string[]>): void {
  // completable() marks the schema object itself (once only): each server gets its own copy, so
  // the tools' shared module_api_name schema stays untouched.
  const moduleArgument = completable(moduleApiName.clone(), (typed) => completeModule(typed));
  server.registerPrompt(
    "whats_related",
    {
      title: "What's related to this record?",
      description: "Summarise everything related to a Zoho CRM record, using the overview, then the detail tools.",
      argsSchema: {
        module_api_name: moduleArgument,
        record_id: recordId,
      },
    },
    ({ module_api_name, record_id }) => ({
      messages: [{ role: "user", content: { type: "text", text: whatsRelatedText(module_api_name, record_id) } }],
    }),
  );
}
