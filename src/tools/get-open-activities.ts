import { z } from "zod";
import { runRelatedQuery } from "./related.js";
import { checkQuery, queryShape, relatedOutputShape } from "./schemas.js";
import { defineTool } from "./types.js";

export const getOpenActivities = defineTool({
  name: "get_open_activities",
  title: "Get open activities",
  description: "Open calls, tasks and meetings of a Zoho CRM record, in chronological order (Activities_Chronological_View).",
  inputSchema: z.object(queryShape).superRefine(checkQuery),
  outputSchema: relatedOutputShape,
  handler: (args, extra, deps) => runRelatedQuery(args, "Activities_Chronological_View", extra, deps),
});
