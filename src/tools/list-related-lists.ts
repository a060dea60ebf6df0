import { z } from "zod";
import { TextBudget } from "../format/budget.js";
import { resolveModule } from "../zoho/modules.js";
import { OPEN, moduleApiName, nullableString } from "./schemas.js";
import { defineTool } from "./types.js";

/** Zoho answers INVALID_DATA for these lists: say so before a model tries one. */
const STATUS_NOTES: Record<string, string> = {
  user_hidden: " [hidden: not readable]",
  scheduled_for_deletion: " [scheduled for deletion: not readable]",
};

export const listRelatedLists = defineTool({
  name: "list_related_lists",
  title: "Related lists of a module",
  description:
    "The related lists of a Zoho CRM module: the related_list_api_name values get_related_records takes.",
  inputSchema: z.object({ module_api_name: moduleApiName }),
  outputSchema: {
    module_api_name: z.string(),
    related_lists: z.array(
      z.object({
        api_name: z.string(),
        display_label: z.string(),
        module: nullableString(),
        type: z.string(),
        status: z.string(),
      }).meta(OPEN),
    ),
  },
  handler: async (input, _extra, { catalog, config, modules }) => {
    const args = { module_api_name: await resolveModule(input.module_api_name, modules) };
    const lists = await catalog.lists(args.module_api_name);
    const lines = [`Related lists of ${args.module_api_name}: ${lists.length}`];
    const budget = new TextBudget(config.resultMaxChars, lines[0]!.length + 200);
    for (const l of lists) {
      const name = l.display_label === l.api_name ? l.api_name : `${l.api_name} "${l.display_label}"`;
      const target = l.type === "grouped" ? "grouped: Calls, Tasks, Events" : (l.module ?? "no module");
      const line = `${name} → ${target}${STATUS_NOTES[l.status] ?? (l.status === "visible" ? "" : ` [${l.status}]`)}`;
      if (!budget.take(line)) {
        const left = lists.length - (lines.length - 1);
        lines.push(`${left} more not printed (ZOHO_RESULT_MAX_CHARS, ${config.resultMaxChars} characters): structuredContent.related_lists has all ${lists.length}.`);
        break;
      }
      lines.push(line);
    }
    return {
      content: [{ type: "text", text: lines.join("\n") }],
      structuredContent: {
        module_api_name: args.module_api_name,
        related_lists: lists.map(({ api_name, display_label, module, type, status }) => ({ api_name, display_label, module, type, status })),
      },
    };
  },
});
