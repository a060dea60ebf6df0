// What a model is told when a single read finds nothing, against the demo CRM over HTTP: Zoho's
// INVALID_DATA names no cause, and the default advice is about related lists. A colleague's email
// read without its owner, and a record id under the wrong module, each get the advice that fits.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEMO, DEMO_USERS } from "../src/demo/seed.js";
import { startHarness, type Harness } from "./helpers.js";

describe("advice for a read that finds nothing", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const ravisEmail = () => `zohocrm://records/Contacts/${DEMO.contactId}/Emails/${DEMO.contactEmailIds[0]}`;
  const ownerAdvice = /What to do: An email from another user's mailbox is read only with its owner: use the link the Emails row gave, which ends in \?user_id=\{owner\.id\}/;

  test("a colleague's email without ?user_id: the owner is named as the miss (resources/read and get_record)", async () => {
    const read = h.client.readResource({ uri: ravisEmail() });
    await expect(read).rejects.toThrow(ownerAdvice);
    await expect(read).rejects.not.toThrow(/related list|list_related_lists/);

    const r = await h.call("get_record", { uri: ravisEmail() });
    expect(r.isError).toBe(true);
    expect(h.text(r)).toMatch(ownerAdvice);
    expect(h.text(r)).not.toMatch(/related list is missing|list_related_lists/);

    // With a user_id that is not the owner's: check the link as the row gave it.
    const wrongOwner = await h.call("get_record", { uri: `${ravisEmail()}?user_id=${DEMO.userId}` });
    expect(h.text(wrongOwner)).toContain("What to do: Check the message_id and user_id: use the link exactly as the Emails row gave it (user_id is the row's owner.id)");
    // And with the owner, the email is read.
    const ok = await h.call("get_record", { uri: `${ravisEmail()}?user_id=${DEMO_USERS.ravi.id}` });
    expect(ok.isError, h.text(ok)).toBeFalsy();
  });

  test("get_record of an id under the wrong module: the record is not in that module, as the overview says", async () => {
    const r = await h.call("get_record", { module_api_name: "Accounts", record_id: DEMO.leadId });
    expect(r.isError).toBe(true);
    expect(h.text(r)).toContain(`record ${DEMO.leadId} is not in Accounts: Zoho's Get Record finds no such Accounts record`);
    expect(h.text(r)).toContain("the id may belong to another module's record");
    expect(h.text(r)).not.toMatch(/related list is missing|list_related_lists shows/);

    const overview = await h.call("get_related_overview", { module_api_name: "Accounts", record_id: DEMO.leadId });
    expect(h.text(overview)).toContain(`record ${DEMO.leadId} is not in Accounts`);

    // The record resource says the same.
    await expect(h.client.readResource({ uri: `zohocrm://records/Accounts/${DEMO.leadId}` })).rejects.toThrow(`record ${DEMO.leadId} is not in Accounts`);
    // An email under a record that is not in the module: the record, not the email's owner.
    await expect(h.client.readResource({ uri: `zohocrm://records/Accounts/${DEMO.leadId}/Emails/${DEMO.leadEmailIds[0]}` })).rejects.toThrow(`record ${DEMO.leadId} is not in Accounts`);
  });
});
