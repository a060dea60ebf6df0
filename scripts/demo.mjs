/**
 * `npm run demo` (after the build): starts the built server in demo mode as an MCP client would (a child process
 * over stdio), finds the sample lead by name, then calls each tool for it through the official MCP client, and prints
 * what comes back. This is an MCP client, never the server, and lives outside src/ for that reason: its stdout is its own.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { fileURLToPath } from "node:url";
import { DEMO } from "../dist/demo/seed.js";

const out = (line = "") => process.stdout.write(`${line}\n`);

function show(title, args, result, links = 3) {
  out(`\n=== ${title} ${JSON.stringify(args)}`);
  const resourceLinks = result.content.filter((c) => c.type === "resource_link");
  for (const c of result.content) if (c.type === "text") out(c.text);
  for (const link of resourceLinks.slice(0, links)) out(`[resource_link] ${link.uri} "${link.name}"`);
  if (resourceLinks.length > links) out(`[resource_link] ... ${resourceLinks.length - links} more`);
}

async function main() {
  const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, "--demo"],
    env: { PATH: process.env.PATH ?? "", ZOHO_MCP_QUIET: "1" },
    stderr: "inherit",
  });
  const client = new Client({ name: "demo-tour", version: "1.0.0" });
  await client.connect(transport);

  const { tools } = await client.listTools();
  out(`Connected to ${client.getServerVersion()?.name} ${client.getServerVersion()?.version} over stdio (demo CRM).`);
  out(`Tools: ${tools.map((t) => t.name).join(", ")}`);

  // What a person says first: a name. The lead's web address (from the search) names it after that.
  const searchArgs = { word: DEMO.leadName };
  const found = await client.callTool({ name: "search_records", arguments: searchArgs });
  show("search_records", searchArgs, found);
  const leadAddress = found.structuredContent?.records?.find((r) => r.$module === "Leads")?.$web_url;
  if (!leadAddress) throw new Error("the search did not find the demo lead's web address");

  const calls = [
    ["get_related_overview", { record_id: leadAddress }],
    ["get_related_overview", { module_api_name: "Accounts", record_id: DEMO.accountId, per_list: 2 }],
    ["list_related_lists", { module_api_name: "Leads" }],
    ["get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes" }],
    ["get_open_activities", { module_api_name: "Leads", record_id: DEMO.leadId }],
    ["get_closed_activities", { module_api_name: "Leads", record_id: DEMO.leadId }],
    ["get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Attachments" }],
    ["get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Deals", fields: ["Deal_Name", "Stage", "Amount", "Closing_Date"] }],
    ["get_related_records", { module_api_name: "Leads", record_id: DEMO.massImportLeadId, related_list_api_name: "Notes", fields: ["Note_Title"], max_records: 3 }],
    ["get_related_records", { module_api_name: "Accounts", record_id: DEMO.accountId, related_list_api_name: "Cases" }],
    ["get_related_records", { module_api_name: "Leads", record_id: DEMO.leadId, related_list_api_name: "Notes", page: 2, page_token: "x" }],
    // Clients that call tools only read records, emails and attachments through get_record.
    ["get_record", { uri: `zohocrm://records/Leads/${DEMO.leadId}/Emails/${DEMO.leadEmailIds[0]}` }],
    ["get_record", { uri: `zohocrm://records/Deals/${DEMO.dealId}/Attachments/${DEMO.dealAttachmentIds[1]}` }],
  ];
  let firstLink;
  for (const [name, args] of calls) {
    const result = await client.callTool({ name, arguments: args });
    show(name, args, result);
    firstLink ??= result.content.find((c) => c.type === "resource_link")?.uri;
  }

  if (firstLink) {
    const { contents } = await client.readResource({ uri: firstLink });
    const first = contents[0];
    out(`\n=== resources/read ${firstLink}`);
    if (first && "text" in first) out(first.text);
  }
  await client.close();
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
