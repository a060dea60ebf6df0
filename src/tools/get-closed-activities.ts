import { z } from "zod";
import { runRelatedQuery } from "./related.js";
import { activityQueryShape, checkQuery, relatedOutputShape } from "./schemas.js";
import { defineTool } from "./types.js";

export const getClosedActivities = defineTool({
  name: "get_closed_activities",
  title: "Closed activities",
  description: "Completed calls, tasks and past meetings of a Zoho CRM record; input as in get_related_records.",
  inputSchema: z.object(activityQueryShape).superRefine(checkQuery),
  outputSchema: relatedOutputShape,
  budgeted: true,
  handler: (args, extra, deps) => runRelatedQuery(args, "Activities_Chronological_View_History", extra, deps),
});
