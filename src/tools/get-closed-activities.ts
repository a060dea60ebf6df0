import { z } from "zod";
import { runRelatedQuery } from "./related.js";
import { checkQuery, queryShape, relatedOutputShape } from "./schemas.js";
import { defineTool } from "./types.js";

export const getClosedActivities = defineTool({
  name: "get_closed_activities",
  title: "Get closed activities",
  description:
    "Completed calls, tasks and past meetings of a Zoho CRM record, in chronological order (Activities_Chronological_View_History).",
  inputSchema: z.object(queryShape).superRefine(checkQuery),
  outputSchema: relatedOutputShape,
  handler: (args, extra, deps) => runRelatedQuery(args, "Activities_Chronological_View_History", extra, deps),
});
