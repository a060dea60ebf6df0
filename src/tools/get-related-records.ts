import { z } from "zod";
import { runRelatedQuery } from "./related.js";
import { checkQuery, emailsFilterShape, queryShape, relatedListApiName, relatedOutputShape } from "./schemas.js";
import { defineTool } from "./types.js";

export const getRelatedRecords = defineTool({
  name: "get_related_records",
  title: "Records of one related list",
  description:
    "Records of one related list of a Zoho CRM record, e.g. a lead's Notes. Walks the pages up to max_records; page or page_token reads one page.",
  inputSchema: z.object({ ...queryShape, related_list_api_name: relatedListApiName, ...emailsFilterShape }).superRefine(checkQuery),
  outputSchema: relatedOutputShape,
  budgeted: true,
  handler: (args, extra, deps) => runRelatedQuery(args, args.related_list_api_name, extra, deps),
});
