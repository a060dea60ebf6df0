import { z } from "zod";
import { runRelatedQuery } from "./related.js";
import { activityQueryShape, checkQuery, relatedOutputShape } from "./schemas.js";
import { defineTool } from "./types.js";

export const getOpenActivities = defineTool({
  name: "get_open_activities",
  title: "Open activities",
  description: "Open calls, tasks and meetings of a Zoho CRM record; input as in get_related_records.",
  inputSchema: z.object(activityQueryShape).superRefine(checkQuery),
  outputSchema: relatedOutputShape,
  budgeted: true,
  handler: (args, extra, deps) => runRelatedQuery(args, "Activities_Chronological_View", extra, deps),
});
