// Default fields picked from a module's field metadata (what GET /settings/fields answers).
import { describe, expect, test } from "vitest";
import { defaultFields, fieldsFromMetadata } from "../src/tools/default-fields.js";

const field = (api_name: string, data_type = "text") => ({ api_name, data_type, system_mandatory: false });

describe("field trackers' history lists", () => {
  test("a tracker module's metadata gives the tracked picklist, where it moved, the duration, when and by whom, as this org names them", () => {
    const meta = [field("Full_Name", "lookup"), field("Lead_Status", "picklist"), field("Moved_To__s", "picklist"), field("Duration_Days", "integer"), field("Modified_Time", "datetime"), field("Modified_By", "ownerlookup"), field("Owner", "ownerlookup")];
    expect(fieldsFromMetadata("Lead_Status_History", meta)).toEqual(["Lead_Status", "Moved_To__s", "Duration_Days", "Modified_Time", "Modified_By"]);
  });

  test("without metadata (the list names no module), Stage_History's well-known columns show the stage", () => {
    expect(defaultFields(null, "Stage_History")).toEqual(["Stage", "Moved_To__s", "Stage_Duration_Calendar_Days", "Modified_Time", "Modified_By"]);
  });

  test("a module that is no tracker keeps its usual picks", () => {
    expect(fieldsFromMetadata("Notes", [field("Note_Title"), field("Note_Content"), field("Owner"), field("Created_Time"), field("Modified_Time")])).toEqual(["Note_Title", "Note_Content", "Owner", "Created_Time", "Modified_Time"]);
  });
});
