import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../src/demo/seed.js";
import { RECORD_URI_ADVICE } from "../src/resources/advice.js";
import { startHarness, type Harness } from "./helpers.js";

/**
 * The server talks to the MCP SDK through its public API only (review finding 12: advice.ts read
 * the SDK's private `_requestHandlers`, which an SDK update could rename and so silently drop the
 * advice). Two guards: no source file names a private SDK member, and resources/read, which we
 * answer ourselves, still behaves as the SDK's own handler did, advice added.
 */

const SRC = fileURLToPath(new URL("../src", import.meta.url));
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("the SDK boundary", () => {
  it("no source file reads a private member of the SDK (the SDK's own underscored fields)", () => {
    const privateNames = /\._(requestHandlers|notificationHandlers|registered\w+|serverInfo|capabilities|transport|toolHandlersInitialized|resourceHandlersInitialized)\b|\b_requestHandlers\b/;
    const offenders = sources(SRC).filter((file) => privateNames.test(readFileSync(file, "utf8")));
    expect(offenders).toEqual([]);
  });

  describe("resources/read through our handler", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness();
    });
    afterAll(async () => {
      await h.close();
    });

    it("reads a record and an email through the templates, first match wins as in the SDK", async () => {
      const record = await h.client.readResource({ uri: `zohocrm://records/Leads/${DEMO.leadId}` });
      expect(JSON.parse((record.contents[0] as { text: string }).text)).toMatchObject({ id: DEMO.leadId });
      const templates = await h.client.listResourceTemplates();
      expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toEqual([
        "zohocrm://records/{module_api_name}/{record_id}",
        "zohocrm://records/{module_api_name}/{record_id}/{related_list_api_name}/{related_record_id}",
      ]);
    });

    it("a URI no template matches is -32602 with the advice, whatever its scheme", async () => {
      for (const uri of [`zohocrm://records/Leads/${DEMO.leadId}/Notes`, "zohocrm://leads/1", "https://crm.zoho.com/crm/org1/tab/Leads/1"]) {
        const error = (await h.client.readResource({ uri }).catch((e: unknown) => e)) as { code: number; message: string };
        expect(error.code, uri).toBe(-32602);
        expect(error.message).toBe(`MCP error -32602: ${uri}: no such resource. ${RECORD_URI_ADVICE}`);
      }
    });
  });
});
