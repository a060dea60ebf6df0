// The demo org's records: a deterministic, believable sales data set. Everything is fixed (ids,
// names, times in 2026) so tests, the README and the demo tour can name records; the two big Note
// lists are generated on first use from a seeded PRNG.

import { createHash } from "node:crypto";

/** One CRM record as the demo stores it: Zoho's JSON plus parsed times for sorting and filtering. */
export interface DemoRecord {
  readonly module: string;
  readonly id: string;
  readonly createdMs: number;
  readonly modifiedMs: number;
  /** The record as Get Record returns it, `id` included. */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface DemoUser { name: string; id: string; email: string }

export const DEMO_USERS = {
  patricia: { name: "Patricia Boyle", id: "4876876000000327001", email: "patricia.boyle@zylker-demo.com" },
  ravi: { name: "Ravi Menon", id: "4876876000000327015", email: "ravi.menon@zylker-demo.com" },
  amelia: { name: "Amelia Burrows", id: "4876876000000327029", email: "amelia.burrows@zylker-demo.com" },
} as const satisfies Record<string, DemoUser>;

/** Well-known records, for tests, the README and the demo tour. */
export const DEMO = {
  orgDomain: "demo-zylker",
  userId: DEMO_USERS.patricia.id,
  /** Lead "Brian Dylan": 7 Notes, 4 open and 3 closed activities, no Attachments, no Campaigns. */
  leadId: "4876876000000376008",
  leadName: "Brian Dylan",
  leadEmail: "brian.dylan@zylker-logistics.com",
  leadPhone: "+1 415 555 0142",
  /** Contact "Brian Dylan", converted from the lead: same name, email and phone (a search finds both). */
  leadContactId: "4876876000000398145",
  /**
   * Account "Zylker Logistics", made from the lead's Company by the same conversion (Zoho's Convert
   * Lead: a Contact and an Account by default, a Deal only when asked): the contact's Account_Name.
   */
  leadAccountId: "4876876000000391160",
  leadAccountName: "Zylker Logistics",
  /** The contact's photo of Brian's business card, a PNG: an image attachment. */
  leadContactImageId: "4876876000001029025",
  leadNoteIds: [
    "4876876000001017003", "4876876000001017015", "4876876000001017027", "4876876000001017039",
    "4876876000001017051", "4876876000001017063", "4876876000001017075",
  ],
  leadOpenCallIds: ["4876876000001021001", "4876876000001021013"],
  leadOpenTaskId: "4876876000001023001",
  leadOpenEventId: "4876876000001025001",
  leadClosedTaskId: "4876876000001023013",
  leadClosedCallId: "4876876000001021025",
  leadClosedEventId: "4876876000001025013",
  /** Lead "Mass Import Test": 2450 Notes (more than the 2000 reachable with `page`). */
  massImportLeadId: "4876876000000376112",
  massImportNoteCount: 2450,
  /** ...and 25 emails: three calls of Zoho's Emails API, ten at a time. */
  massImportEmailCount: 25,
  /** Account "Zylker Inc": 12 Contacts, 5 Deals, 3 Notes, activities; Cases/Invoices/Quotes fail, Social is hidden. */
  accountId: "4876876000000391004",
  accountName: "Zylker Inc",
  accountContactCount: 12,
  accountDealCount: 5,
  accountNoteCount: 3,
  contactId: "4876876000000398001",
  dealId: "4876876000000405001",
  /** Two attachments of the deal: a PDF and a CSV. */
  dealAttachmentIds: ["4876876000001029001", "4876876000001029013"],
  /** Brian Dylan's three emails (Zoho's message ids are hex strings), newest first. */
  leadEmailIds: [
    "c1d0e5f7a2b94c3d8e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f",
    "9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a493827160f5e4d3c2b1a0",
    "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
  ],
  /**
   * Contact "Lena Fischer"'s two emails, newest first: Ravi's own mail synced over IMAP (an email
   * shared by someone else, for Patricia: View Email needs its owner's user_id) and one Patricia
   * sent from CRM (for the Emails list's `type` and `owner_id` filters).
   */
  contactEmailIds: [
    "7c3e9a1f5b2d4e6081a3c5e7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7",
    "2b4d6f8a0c2e4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c",
  ],
  /** Account "Globex Bulk Archive": 10,500 Notes, for the 10,000-record benchmark. */
  bulkAccountId: "4876876000000391086",
  bulkAccountName: "Globex Bulk Archive",
  bulkNoteCount: 10_500,
  /** Campaign "Spring Expo 2026": 6 Leads, 2 of them converted. */
  campaignId: "4876876000000419002",
  campaignName: "Spring Expo 2026",
  campaignLeadCount: 6,
  campaignConvertedLeadCount: 2,
  /** Zylker's 2 Invoices: readable only by a signed-in demo administrator (--oauth). */
  invoiceIds: ["4876876000000433001", "4876876000000433013"],
  /** Spring Expo lead "Hannah Ortiz", private to its owner: a signed-in sales rep does not see it. */
  restrictedLeadId: "4876876000000412001",
} as const;

// ---------------------------------------------------------------- helpers

const IST_OFFSET_MS = 330 * 60_000;

/** Formats epoch ms the way Zoho does for an org in India: "2026-03-14T10:22:31+05:30". */
export function zohoTime(ms: number): string {
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(0, 19) + "+05:30";
}

type Fields = Record<string, unknown>;

function record(module: string, id: string, created: string, modified: string, fields: Fields, owner: DemoUser = DEMO_USERS.patricia, modifier: DemoUser = owner): DemoRecord {
  return {
    module,
    id,
    createdMs: Date.parse(created),
    modifiedMs: Date.parse(modified),
    data: {
      ...fields,
      Owner: owner,
      Created_By: owner,
      Modified_By: modifier,
      Created_Time: created,
      Modified_Time: modified,
      $editable: true,
      id,
    },
  };
}

const ref = (r: DemoRecord, nameField: string) => ({ name: r.data[nameField] as string, id: r.id });

/** mulberry32: a tiny seeded PRNG, so generated lists are identical on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- the data set

/** A file behind an attachment: what `GET /{module}/{id}/Attachments/{attachment_id}` sends. */
export interface DemoFile { name: string; contentType: string; bytes: Buffer }

export interface DemoData {
  /** A record of a module, or undefined. */
  record(module: string, id: string): DemoRecord | undefined;
  /** A record's emails, newest first, in Zoho's Email model (with `content`, which only the single-email answer carries). */
  emails(module: string, id: string): ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** The file of an attachment of a record, or undefined. */
  file(module: string, id: string, attachmentId: string): DemoFile | undefined;
  /** The rows of a related list in their stored order; undefined when the demo holds no data for it. */
  related(module: string, id: string, listApiName: string): readonly DemoRecord[] | undefined;
  /** The named records of a module (Get Records; the mass-generated notes are not listed). */
  list(module: string): readonly DemoRecord[];
}

let singleton: DemoData | undefined;

/** The data never changes, so every demo server in the process shares one copy. */
export function demoData(): DemoData {
  singleton ??= buildDemoData();
  return singleton;
}

function buildDemoData(): DemoData {
  const { patricia, ravi, amelia } = DEMO_USERS;
  const index = new Map<string, DemoRecord>();
  const lists = new Map<string, () => readonly DemoRecord[]>();
  // Generated related records (the bulk Notes) are records of their module too: a Notes search finds them.
  const generated: Array<() => readonly DemoRecord[]> = [];
  const add = (...records: DemoRecord[]) => { for (const r of records) index.set(`${r.module}/${r.id}`, r); return records; };
  const relate = (parent: DemoRecord, list: string, rows: readonly DemoRecord[]) => lists.set(`${parent.module}/${parent.id}/${list}`, () => rows);

  // -- Lead "Brian Dylan"
  const [brian] = add(record("Leads", DEMO.leadId, "2026-01-12T09:14:05+05:30", "2026-03-14T10:22:31+05:30", {
    First_Name: "Brian", Last_Name: "Dylan", Full_Name: "Brian Dylan", Company: "Zylker Logistics",
    Designation: "Head of Procurement", Email: DEMO.leadEmail, Phone: DEMO.leadPhone,
    Lead_Status: "Contacted", Lead_Source: "Trade Show", Industry: "Transportation", Annual_Revenue: 4_800_000,
    // Converted into a contact and an account, no deal (Zoho keeps the lead, marked $converted,
    // with $converted_detail naming what the conversion made).
    $converted: true,
    $converted_detail: {
      contact: { name: "Brian Dylan", id: DEMO.leadContactId }, account: { name: DEMO.leadAccountName, id: DEMO.leadAccountId },
      converted_time: "2026-03-16T09:30:00+05:30", deal: null,
    },
  }));
  if (!brian) throw new Error("seed");
  const brianRef = ref(brian, "Full_Name");
  // What the conversion made: the account from the lead's Company (its industry and revenue carried
  // over), and the contact, whose Account_Name is a lookup to that account.
  const [brianAccount] = add(record("Accounts", DEMO.leadAccountId, "2026-03-16T09:30:00+05:30", "2026-03-16T09:30:00+05:30", {
    Account_Name: DEMO.leadAccountName, Industry: "Transportation", Annual_Revenue: 4_800_000,
  }));
  if (!brianAccount) throw new Error("seed");
  const [brianContact] = add(record("Contacts", DEMO.leadContactId, "2026-03-16T09:30:00+05:30", "2026-03-16T09:30:00+05:30", {
    First_Name: "Brian", Last_Name: "Dylan", Full_Name: "Brian Dylan", Title: "Head of Procurement",
    Email: DEMO.leadEmail, Phone: DEMO.leadPhone, Account_Name: ref(brianAccount, "Account_Name"), Lead_Source: "Trade Show",
  }));
  relate(brianAccount, "Contacts", [brianContact].filter(isRecord));
  const brianNotes: Array<[string, string, string, string, DemoUser]> = [
    ["Intro call", "Brian runs procurement for 14 warehouses. Interested in fleet tracking for the Q3 refresh.", "2026-01-12T11:02:44+05:30", "2026-01-12T11:02:44+05:30", patricia],
    ["Budget", "Budget approved for FY26: around $120k. Final sign-off sits with their CFO.", "2026-01-20T16:40:10+05:30", "2026-01-21T09:05:12+05:30", patricia],
    ["Competitor", "They are also evaluating Globex Fleet. Price is the main concern, not features.", "2026-02-03T14:15:00+05:30", "2026-02-03T14:15:00+05:30", ravi],
    ["Demo feedback", "Demo went well.\nAction items: send the integration guide and a reference customer in logistics.", "2026-02-11T18:30:27+05:30", "2026-02-12T10:11:02+05:30", patricia],
    ["Security review", "Their IT team needs our SOC 2 report before the pilot can start.", "2026-02-24T12:48:55+05:30", "2026-02-24T12:48:55+05:30", amelia],
    ["Pilot scope", "Pilot agreed for 2 warehouses (Oakland, Reno), 6 weeks starting in April.", "2026-03-06T15:20:40+05:30", "2026-03-09T08:44:18+05:30", patricia],
    ["Follow-up", "Brian asked to move the pricing call to next week; he is travelling until Thursday.", "2026-03-14T10:22:31+05:30", "2026-03-14T10:22:31+05:30", patricia],
  ];
  relate(brian, "Notes", add(...brianNotes.map(([title, content, created, modified, owner], i) =>
    record("Notes", DEMO.leadNoteIds[i] ?? "", created, modified, {
      Note_Title: title, Note_Content: content, Parent_Id: brianRef, $se_module: "Leads",
    }, owner))));

  // Activities on a Lead point at it through What_Id with $se_module "Leads".
  const onBrian = { What_Id: brianRef, $se_module: "Leads" };
  const [call1, call2, task1, event1, task2, call3, event2] = add(
    record("Calls", DEMO.leadOpenCallIds[0], "2026-03-14T10:30:00+05:30", "2026-03-14T10:30:00+05:30", {
      Subject: "Pricing discussion", Call_Type: "Outbound", Call_Status: "Scheduled", Call_Purpose: "Negotiation",
      Call_Start_Time: "2026-03-19T16:00:00+05:30", Call_Duration: "30:00", ...onBrian,
    }),
    record("Calls", DEMO.leadOpenCallIds[1], "2026-03-15T09:12:40+05:30", "2026-03-15T09:12:40+05:30", {
      Subject: "Pilot kickoff with IT", Call_Type: "Outbound", Call_Status: "Scheduled", Call_Purpose: "Project",
      Call_Start_Time: "2026-04-02T11:30:00+05:30", Call_Duration: "45:00", ...onBrian,
    }, ravi),
    record("Tasks", DEMO.leadOpenTaskId, "2026-03-09T08:50:00+05:30", "2026-03-09T08:50:00+05:30", {
      Subject: "Send SOC 2 report and integration guide", Due_Date: "2026-03-20", Status: "Not Started", Priority: "High", ...onBrian,
    }),
    record("Events", DEMO.leadOpenEventId, "2026-03-10T13:05:00+05:30", "2026-03-12T17:45:09+05:30", {
      Event_Title: "Onsite visit: Oakland warehouse", Start_DateTime: "2026-04-08T10:00:00+05:30",
      End_DateTime: "2026-04-08T12:00:00+05:30", Venue: "Zylker Logistics, 1200 Embarcadero Rd, Oakland", All_day: false, ...onBrian,
    }),
    record("Tasks", DEMO.leadClosedTaskId, "2026-01-12T11:05:00+05:30", "2026-01-16T15:32:10+05:30", {
      Subject: "Send product brochure", Due_Date: "2026-01-15", Status: "Completed", Priority: "Normal",
      Closed_Time: "2026-01-16T15:32:10+05:30", ...onBrian,
    }),
    record("Calls", DEMO.leadClosedCallId, "2026-01-19T10:00:00+05:30", "2026-01-20T16:41:00+05:30", {
      Subject: "Budget check-in", Call_Type: "Outbound", Call_Status: "Completed", Call_Purpose: "Prospecting",
      Call_Result: "Interested", Call_Start_Time: "2026-01-20T16:00:00+05:30", Call_Duration: "22:14", ...onBrian,
    }),
    record("Events", DEMO.leadClosedEventId, "2026-02-02T09:30:00+05:30", "2026-02-11T18:31:02+05:30", {
      Event_Title: "Product demo", Start_DateTime: "2026-02-11T17:00:00+05:30", End_DateTime: "2026-02-11T18:00:00+05:30",
      Venue: "Zoho Meeting", All_day: false, ...onBrian,
    }),
  );
  relate(brian, "Activities_Chronological_View", [call1, call2, task1, event1].filter(isRecord));
  relate(brian, "Activities_Chronological_View_History", [task2, call3, event2].filter(isRecord));
  relate(brian, "Attachments", []);
  relate(brian, "Campaigns", []);

  // -- Lead "Mass Import Test": 2450 generated Notes
  const [massLead] = add(record("Leads", DEMO.massImportLeadId, "2026-01-05T08:00:00+05:30", "2026-01-05T08:00:00+05:30", {
    First_Name: "Mass Import", Last_Name: "Test", Full_Name: "Mass Import Test", Company: "Import Sandbox Ltd",
    Email: "import-test@zylker-demo.com", Lead_Status: "Not Contacted", Lead_Source: "Web Download", $converted: false,
  }, amelia));
  const massNotes = generatedNotes(massLead!, "Full_Name", DEMO.massImportNoteCount, 4876876000100000000n, Date.parse("2026-01-05T09:00:00+05:30"), 2 * 3_600_000, 7);
  lists.set(`Leads/${DEMO.massImportLeadId}/Notes`, massNotes.all);
  generated.push(massNotes.all);

  // -- Account "Zylker Inc"
  const [zylker, globex] = add(
    record("Accounts", DEMO.accountId, "2026-01-08T10:00:00+05:30", "2026-03-11T12:20:45+05:30", {
      Account_Name: "Zylker Inc", Industry: "Manufacturing", Phone: "+1 650 555 0100", Website: "https://www.zylker-demo.com",
      Billing_City: "Pleasanton", Billing_Country: "United States", Employees: 1250, Annual_Revenue: 86_000_000,
    }),
    record("Accounts", DEMO.bulkAccountId, "2026-01-02T09:00:00+05:30", "2026-01-02T09:00:00+05:30", {
      Account_Name: "Globex Bulk Archive", Industry: "Wholesale", Phone: "+1 312 555 0199", Website: "https://globex-demo.example",
      Billing_City: "Chicago", Billing_Country: "United States", Employees: 5400,
    }, ravi),
  );
  if (!zylker || !globex) throw new Error("seed");
  const zylkerRef = ref(zylker, "Account_Name");

  const people: Array<[string, string, string]> = [
    ["Lena", "Fischer", "VP Operations"], ["Omar", "Haddad", "Procurement Manager"], ["Grace", "Liu", "CFO"],
    ["Diego", "Ramirez", "IT Director"], ["Aisha", "Bello", "Plant Manager"], ["Tom", "Becker", "Logistics Lead"],
    ["Yuki", "Tanaka", "Quality Engineer"], ["Sara", "Nilsson", "Purchasing Agent"], ["Kwame", "Mensah", "Controller"],
    ["Nora", "Walsh", "Head of Supply Chain"], ["Arjun", "Rao", "Systems Analyst"], ["Chloe", "Martin", "Office Manager"],
  ];
  const contacts = add(...people.map(([first, last, title], i) => record("Contacts", String(BigInt(DEMO.contactId) + BigInt(i * 12)),
    zohoTime(Date.parse("2026-01-09T10:00:00+05:30") + i * 4 * 86_400_000 + i * 3_723_000),
    zohoTime(Date.parse("2026-02-01T10:00:00+05:30") + ((i * 7) % 12) * 5 * 86_400_000 + i * 611_000),
    {
      First_Name: first, Last_Name: last, Full_Name: `${first} ${last}`, Title: title,
      Email: `${first}.${last}@zylker-demo.com`.toLowerCase(), Phone: `+1 650 555 01${String(10 + i)}`,
      Account_Name: zylkerRef, Lead_Source: i % 3 === 0 ? "Trade Show" : "Partner",
    }, i % 4 === 3 ? ravi : patricia)));
  relate(zylker, "Contacts", contacts);

  const deals: Array<[string, string, number, string, number]> = [
    ["Zylker Inc - Fleet Tracking Rollout", "Negotiation/Review", 184_000, "2026-05-29", 80],
    ["Zylker Inc - Warehouse Sensors", "Proposal/Price Quote", 62_500, "2026-06-30", 60],
    ["Zylker Inc - Support Renewal 2026", "Closed Won", 24_000, "2026-02-27", 100],
    ["Zylker Inc - Driver App Pilot", "Qualification", 15_000, "2026-07-15", 20],
    ["Zylker Inc - EU Expansion", "Needs Analysis", 310_000, "2026-09-30", 35],
  ];
  const dealRecords = add(...deals.map(([name, stage, amount, closing, probability], i) => {
    const contact = contacts[i * 2] ?? contacts[0]!;
    return record("Deals", String(BigInt(DEMO.dealId) + BigInt(i * 12)),
      zohoTime(Date.parse("2026-01-15T11:00:00+05:30") + i * 9 * 86_400_000),
      zohoTime(Date.parse("2026-02-20T15:00:00+05:30") + i * 6 * 86_400_000 + i * 1_337_000),
      {
        Deal_Name: name, Stage: stage, Amount: amount, Closing_Date: closing, Probability: probability,
        Account_Name: zylkerRef, Contact_Name: ref(contact, "Full_Name"),
      }, i === 3 ? amelia : patricia);
  }));
  relate(zylker, "Deals", dealRecords);

  // -- Deal "Fleet Tracking Rollout": two attachments (the files themselves too) and its stage history.
  const rollout = dealRecords[0]!;
  const rolloutRef = ref(rollout, "Deal_Name");
  const files = new Map<string, DemoFile>();
  const attachment = (id: string, created: string, name: string, contentType: string, bytes: Buffer, owner: DemoUser) => {
    files.set(`Deals/${rollout.id}/${id}`, { name, contentType, bytes });
    return record("Attachments", id, created, created, {
      File_Name: name, Size: String(bytes.length), Parent_Id: rolloutRef, $se_module: "Deals", $type: "Attachment",
      $file_id: `${id.slice(-6)}a1b2c3d4e5f6${id.slice(0, 6)}`, $link_url: null,
    }, owner);
  };
  relate(rollout, "Attachments", add(
    attachment(DEMO.dealAttachmentIds[0], "2026-02-21T10:05:00+05:30", "Fleet-Tracking-Proposal.pdf", "application/pdf", demoPdf(), patricia),
    attachment(DEMO.dealAttachmentIds[1], "2026-02-25T16:40:00+05:30", "pricing-tiers.csv", "text/csv", Buffer.from(PRICING_CSV, "utf8"), ravi),
  ));
  // The converted contact: one image attachment (a scanned business card).
  files.set(`Contacts/${DEMO.leadContactId}/${DEMO.leadContactImageId}`, { name: "business-card.png", contentType: "image/png", bytes: Buffer.from(CARD_PNG, "base64") });
  relate(brianContact!, "Attachments", add(record("Attachments", DEMO.leadContactImageId, "2026-03-16T09:40:00+05:30", "2026-03-16T09:40:00+05:30", {
    File_Name: "business-card.png", Size: String(Buffer.from(CARD_PNG, "base64").length), Parent_Id: { name: "Brian Dylan", id: DEMO.leadContactId },
    $se_module: "Contacts", $type: "Attachment", $file_id: "029025a1b2c3d4e5f6487687", $link_url: null,
  })));
  // One row per stage the deal entered, with the field tracker's columns: the stage, where it moved
  // to next (null: still there) and how long it stayed (docs/zoho-compatibility.md, item 2).
  const stages = ["Qualification", "Needs Analysis", "Negotiation/Review"];
  relate(rollout, "Stage_History", stages.map((stage, i) =>
    record("Stage_History", String(4876876000001031001n + BigInt(i * 12)), zohoTime(Date.parse("2026-01-15T11:00:00+05:30") + i * 14 * 86_400_000),
      zohoTime(Date.parse("2026-01-15T11:00:00+05:30") + i * 14 * 86_400_000), {
        Stage: stage, Moved_To__s: stages[i + 1] ?? null, Stage_Duration_Calendar_Days: i + 1 < stages.length ? 14 : null, Amount: 184_000, Probability: [10, 30, 80][i],
      })));

  const onZylker = { What_Id: zylkerRef, $se_module: "Accounts" };
  relate(zylker, "Notes", add(
    record("Notes", "4876876000001018003", "2026-01-08T10:15:00+05:30", "2026-01-08T10:15:00+05:30", {
      Note_Title: "Account plan", Note_Content: "Land with fleet tracking, expand to sensors and the EU sites in H2.", Parent_Id: zylkerRef, $se_module: "Accounts",
    }),
    record("Notes", "4876876000001018015", "2026-02-27T17:05:00+05:30", "2026-02-27T17:05:00+05:30", {
      Note_Title: "Renewal signed", Note_Content: "Support renewal signed for 2026 at last year's price.", Parent_Id: zylkerRef, $se_module: "Accounts",
    }, ravi),
    record("Notes", "4876876000001018027", "2026-03-11T12:20:45+05:30", "2026-03-11T12:20:45+05:30", {
      Note_Title: "Org change", Note_Content: "Grace Liu is the new CFO; she will approve anything above $100k.", Parent_Id: zylkerRef, $se_module: "Accounts",
    }),
  ));
  // Invoices: the self-client's profile cannot read them (NO_PERMISSION); a signed-in administrator can.
  relate(zylker, "Invoices", add(
    record("Invoices", DEMO.invoiceIds[0], "2026-02-27T18:00:00+05:30", "2026-02-28T09:10:00+05:30", {
      Subject: "INV-2026-0042 Support renewal 2026", Status: "Approved", Grand_Total: 24_000, Account_Name: zylkerRef,
    }),
    record("Invoices", DEMO.invoiceIds[1], "2026-03-10T11:30:00+05:30", "2026-03-10T11:30:00+05:30", {
      Subject: "INV-2026-0057 Fleet tracking deposit", Status: "Created", Grand_Total: 36_800, Account_Name: zylkerRef,
    }),
  ));
  relate(zylker, "Activities_Chronological_View", add(
    record("Calls", "4876876000001021037", "2026-03-11T12:30:00+05:30", "2026-03-11T12:30:00+05:30", {
      Subject: "Intro call with the new CFO", Call_Type: "Outbound", Call_Status: "Scheduled", Call_Purpose: "Negotiation",
      Call_Start_Time: "2026-03-24T15:00:00+05:30", Call_Duration: "30:00", ...onZylker, Who_Id: ref(contacts[2]!, "Full_Name"),
    }),
    record("Tasks", "4876876000001023025", "2026-03-02T09:00:00+05:30", "2026-03-02T09:00:00+05:30", {
      Subject: "Prepare EU expansion proposal", Due_Date: "2026-04-10", Status: "In Progress", Priority: "High", ...onZylker,
    }, amelia),
  ));
  relate(zylker, "Activities_Chronological_View_History", add(
    record("Events", "4876876000001025025", "2026-02-10T09:00:00+05:30", "2026-02-26T19:00:00+05:30", {
      Event_Title: "Quarterly business review", Start_DateTime: "2026-02-26T16:00:00+05:30", End_DateTime: "2026-02-26T18:00:00+05:30",
      Venue: "Zylker HQ, Pleasanton", All_day: false, ...onZylker,
    }),
  ));

  // -- Account "Globex Bulk Archive": 10,500 generated Notes
  const globexNotes = generatedNotes(globex, "Account_Name", DEMO.bulkNoteCount, 4876876000200000000n, Date.parse("2026-01-02T09:30:00+05:30"), 45 * 60_000, 42);
  lists.set(`Accounts/${DEMO.bulkAccountId}/Notes`, globexNotes.all);
  generated.push(globexNotes.all);

  // -- Campaign "Spring Expo 2026" with 6 Leads, 2 converted
  const [expo] = add(record("Campaigns", DEMO.campaignId, "2026-01-20T10:00:00+05:30", "2026-03-02T11:11:11+05:30", {
    Campaign_Name: "Spring Expo 2026", Type: "Trade Show", Status: "Active", Start_Date: "2026-03-03", End_Date: "2026-03-05",
    Expected_Revenue: 250_000, Budgeted_Cost: 18_000,
  }));
  const expoLeads: Array<[string, string, string, boolean]> = [
    ["Hannah", "Ortiz", "Brightline Freight", false], ["Marcus", "Lee", "Northwind Traders", false],
    ["Sofia", "Rossi", "Vela Cold Chain", false], ["Daniel", "Kim", "Kestrel Robotics", true],
    ["Priya", "Natarajan", "Indus Parcel", true], ["Tomás", "Silva", "Atlântico Shipping", false],
  ];
  relate(expo!, "Leads", add(...expoLeads.map(([first, last, company, converted], i) => record("Leads",
    String(4876876000000412001n + BigInt(i * 12)),
    zohoTime(Date.parse("2026-03-03T12:00:00+05:30") + i * 5_400_000),
    zohoTime(Date.parse("2026-03-06T09:00:00+05:30") + i * 2 * 86_400_000),
    {
      First_Name: first, Last_Name: last, Full_Name: `${first} ${last}`, Company: company,
      Email: `${first.normalize("NFD").replace(/[\u0300-\u036f]/g, "")}.${last}@example.com`.toLowerCase(),
      Lead_Status: converted ? "Converted" : "Contacted", Lead_Source: "Trade Show", $converted: converted,
    }, i % 2 === 0 ? patricia : ravi))));

  // -- Emails of Brian Dylan, in Zoho's Email model (list answers leave `content` out).
  const brianEmails = BRIAN_EMAILS.map(([subject, from, to, sentTime, status, read, content], i) => ({
    cc: [], summary: null, owner: { name: patricia.name, id: patricia.id }, read, content,
    sent: from.email === patricia.email, subject, intent: null, sentiment_info: null,
    message_id: DEMO.leadEmailIds[i], source: "crm_mail", emotion: null,
    linked_record: { module: { api_name: "Leads", id: "4876876000000002175" }, name: DEMO.leadName, id: DEMO.leadId },
    from, to: [to], time: sentTime, sent_time: sentTime, thread_id: DEMO.leadEmailIds[i], status: [{ type: status }],
    has_attachment: false, has_thread_attachment: false, editable: false, mail_format: "html", reply_to: from,
  }));
  // Lead "Mass Import Test": 25 generated emails, more than one call of Zoho's Emails API (ten) holds.
  const massEmails = Array.from({ length: DEMO.massImportEmailCount }, (_, i) => {
    const id = createHash("sha256").update(`mass-import-email-${i}`).digest("hex");
    const sent = zohoTime(Date.parse("2026-03-01T09:00:00+05:30") - i * 86_400_000);
    return {
      cc: [], summary: null, owner: { name: amelia.name, id: amelia.id }, read: true, sent: true,
      subject: `Import batch ${DEMO.massImportEmailCount - i} confirmation`, intent: null, sentiment_info: null, message_id: id, source: "crm_mail", emotion: null,
      linked_record: { module: { api_name: "Leads", id: "4876876000000002175" }, name: "Mass Import Test", id: DEMO.massImportLeadId },
      from: { user_name: amelia.name, email: amelia.email }, to: [{ user_name: "Mass Import Test", email: "import-test@zylker-demo.com" }],
      time: sent, sent_time: sent, thread_id: id, status: [{ type: "sent" }], has_attachment: false, has_thread_attachment: false,
      editable: false, mail_format: "html", reply_to: { user_name: amelia.name, email: amelia.email },
      content: `<div>Batch ${DEMO.massImportEmailCount - i} imported.</div>`,
    };
  });
  // Contact "Lena Fischer": one email of Ravi's own mailbox (source imap: a user email, shared with
  // the org) and one Patricia sent from CRM.
  const lena = { user_name: "Lena Fischer", email: "lena.fischer@zylker-demo.com" };
  const lenaEmail = (i: 0 | 1, owner: DemoUser, source: string, subject: string, sentTime: string, content: string) => {
    const from = { user_name: owner.name, email: owner.email };
    return {
      cc: [], summary: null, owner: { name: owner.name, id: owner.id }, read: true, sent: true, subject, intent: null, sentiment_info: null,
      message_id: DEMO.contactEmailIds[i], source, emotion: null,
      linked_record: { module: { api_name: "Contacts", id: "4876876000000002179" }, name: "Lena Fischer", id: DEMO.contactId },
      from, to: [lena], time: sentTime, sent_time: sentTime, thread_id: DEMO.contactEmailIds[i], status: [{ type: "sent" }],
      has_attachment: false, has_thread_attachment: false, editable: false, mail_format: "html", reply_to: from, content,
    };
  };
  const lenaEmails = [
    lenaEmail(0, ravi, "imap", "Sensor pilot: the three sites", "2026-03-12T15:20:00+05:30", "<div>Hi Lena,<br>Hamburg, Rotterdam and Antwerp it is.<br>Ravi</div>"),
    lenaEmail(1, patricia, "crm_mail", "Onboarding schedule", "2026-03-02T11:00:00+05:30", "<div>Hi Lena,<br>Onboarding starts on the 16th.<br>Patricia</div>"),
  ];
  const emails = new Map<string, ReadonlyArray<Record<string, unknown>>>([[`Leads/${DEMO.leadId}`, brianEmails], [`Leads/${DEMO.massImportLeadId}`, massEmails], [`Contacts/${DEMO.contactId}`, lenaEmails]]);

  return {
    emails(module, id) {
      return emails.get(`${module}/${id}`) ?? [];
    },
    file(module, id, attachmentId) {
      return files.get(`${module}/${id}/${attachmentId}`);
    },
    record(module, id) {
      const found = index.get(`${module}/${id}`);
      if (found || module !== "Notes") return found;
      return massNotes.byId(id) ?? globexNotes.byId(id);
    },
    related(module, id, listApiName) {
      return lists.get(`${module}/${id}/${listApiName}`)?.();
    },
    list(module) {
      return [...index.values(), ...generated.flatMap((rows) => rows())].filter((r) => r.module === module);
    },
  };
}

type EmailSpec = [subject: string, from: { user_name: string; email: string }, to: { user_name: string; email: string }, sentTime: string, status: string, read: boolean, content: string];
const BRIAN = { user_name: "Brian Dylan", email: "brian.dylan@zylker-logistics.com" };
const PATRICIA = { user_name: "Patricia Boyle", email: "patricia.boyle@zylker-demo.com" };
const BRIAN_EMAILS: EmailSpec[] = [
  ["Re: Pricing call next week", BRIAN, PATRICIA, "2026-03-14T10:18:02+05:30", "received", true,
    "<div>Hi Patricia,<br>I am travelling until Thursday. Could we move the pricing call to next week?<br>Brian</div>"],
  ["SOC 2 report and integration guide", PATRICIA, BRIAN, "2026-03-09T09:02:45+05:30", "opened", true,
    "<div>Hi Brian,<br>As promised, our SOC 2 Type II report and the integration guide are attached.<br>Patricia</div>"],
  ["Thanks for the demo", PATRICIA, BRIAN, "2026-02-11T18:45:10+05:30", "sent", true,
    "<div>Hi Brian,<br>Thank you for your time today. A reference customer in logistics will reach out this week.<br>Patricia</div>"],
];

/** A 1x1 PNG: the smallest well-formed image, so the demo's image attachment opens as one. */
const CARD_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const PRICING_CSV = "tier,vehicles,price_per_vehicle_usd\nStarter,1-50,18\nGrowth,51-500,15\nFleet,501+,12\n";

/** A small but well-formed one-page PDF, so the demo's attachment opens as one. */
function demoPdf(): Buffer {
  const text = "Fleet Tracking Rollout - proposal for Zylker Inc";
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${text.length + 37} >>\nstream\nBT /F1 18 Tf 72 720 Td (${text}) Tj ET\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

function isRecord(r: DemoRecord | undefined): r is DemoRecord {
  return r !== undefined;
}

const NOTE_TITLES = ["Call recap", "Order update", "Shipment delay", "Invoice question", "Contract note", "Meeting summary", "Support ticket", "Price request"];
const NOTE_BODIES = [
  "Customer confirmed the delivery window for batch {n}.",
  "Asked for an updated quote on {q} units; sent the revised price list.",
  "Shipment {n} held at customs for two days; customer informed.",
  "Invoice {n} questioned: freight charge missing. Corrected and resent.",
  "Contract addendum {n} signed; volume discount starts next month.",
  "Quarterly sync: {q} open orders, no escalations.\nNext review in 90 days.",
];

/**
 * A long Note list under one parent, built on first use (not at start-up) and indexed by position,
 * so ids map back to rows without a lookup table. Ids increase with creation time; modification
 * times wander a little so sort_by=Modified_Time differs from sort_by=id.
 */
function generatedNotes(parent: DemoRecord, nameField: string, count: number, firstId: bigint, startMs: number, stepMs: number, seed: number) {
  let rows: DemoRecord[] | undefined;
  const all = (): readonly DemoRecord[] => {
    if (rows) return rows;
    const random = prng(seed);
    const users = Object.values(DEMO_USERS);
    const parentRef = ref(parent, nameField);
    rows = new Array<DemoRecord>(count);
    for (let i = 0; i < count; i++) {
      const created = startMs + i * stepMs;
      const modified = created + Math.floor(random() * 3 * 86_400_000);
      const n = String(10_000 + i);
      const body = NOTE_BODIES[i % NOTE_BODIES.length]!.replace("{n}", n).replace("{q}", String(5 + Math.floor(random() * 500)));
      rows[i] = record("Notes", String(firstId + BigInt(i)), zohoTime(created), zohoTime(modified), {
        Note_Title: `${NOTE_TITLES[i % NOTE_TITLES.length]} #${i + 1}`, Note_Content: body,
        Parent_Id: parentRef, $se_module: parent.module,
      }, users[Math.floor(random() * users.length)] ?? DEMO_USERS.patricia);
    }
    return rows;
  };
  const byId = (id: string): DemoRecord | undefined => {
    if (!/^\d{19}$/.test(id)) return undefined;
    const i = BigInt(id) - firstId;
    return i >= 0n && i < BigInt(count) ? all()[Number(i)] : undefined;
  };
  return { all, byId };
}
