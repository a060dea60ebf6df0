import { getClosedActivities } from "./get-closed-activities.js";
import { getRecord } from "./get-record.js";
import { getOpenActivities } from "./get-open-activities.js";
import { getRelatedOverview } from "./get-related-overview.js";
import { getRelatedRecords } from "./get-related-records.js";
import { listRelatedLists } from "./list-related-lists.js";
import { searchRecords } from "./search-records.js";
import type { ToolDefinition } from "./types.js";

/** Every tool the server offers, in the order clients list them. */
export const TOOLS: ToolDefinition[] = [
  searchRecords,
  getRelatedOverview,
  getRelatedRecords,
  getOpenActivities,
  getClosedActivities,
  listRelatedLists,
  getRecord,
] as unknown as ToolDefinition[];
