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

  test("an attachment or email id the record does not have: said plainly, with the call that lists them, as Zoho answers it (204)", async () => {
    const missing = "4876876000001029099";
    const attachment = `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${missing}`;
    h.crm.resetStats();
    const r = await h.call("get_record", { uri: attachment });
    expect(r.isError).toBe(true);
    // The demo answers as Zoho's OpenAPI (attachments.json) documents: "204 No Content - Invalid attachment ID".
    expect(h.crm.stats.requests.find((q) => q.path.endsWith(`/Attachments/${missing}`))?.status).toBe(204);
    expect(h.text(r)).toContain(`no attachment with id ${missing} is on Deals record ${DEMO.dealId}`);
    const listing = `get_related_records with module_api_name "Deals", record_id "${DEMO.dealId}" and related_list_api_name "Attachments" lists the record's attachments, each with its link`;
    expect(h.text(r)).toContain(`What to do: ${listing}`);
    expect(h.text(r)).not.toMatch(/related list is missing|list_related_lists/);
    await expect(h.client.readResource({ uri: attachment })).rejects.toThrow(listing);
    // The call it names lists the record's attachments.
    const list = await h.call("get_related_records", { module_api_name: "Deals", record_id: DEMO.dealId, related_list_api_name: "Attachments" });
    expect((list.structuredContent as { records: Array<{ id: string }> }).records.map((a) => a.id).sort()).toEqual([...DEMO.dealAttachmentIds].sort());

    const email = await h.call("get_record", { uri: `zohocrm://records/Leads/${DEMO.leadId}/Emails/deadbeef00?user_id=${DEMO.userId}` });
    expect(h.text(email)).toContain(`no email with message_id deadbeef00 is on Leads record ${DEMO.leadId} in the mailbox of user ${DEMO.userId}`);
    expect(h.text(email)).toContain(`What to do: get_related_records with module_api_name "Leads", record_id "${DEMO.leadId}" and related_list_api_name "Emails" lists the record's emails, each with its link`);
    expect(h.text(email)).not.toMatch(/related list is missing|list_related_lists/);
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
