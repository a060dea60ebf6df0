import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
const t = new StdioClientTransport({ command: process.execPath, args: ["dist/bundle/zoho-crm-related-mcp.js", "--demo"], stderr: "pipe" });
const c = new Client({ name: "x", version: "1" });
await c.connect(t);
const answer = await c.listTools();
for (const t of answer.tools) if (process.argv.includes(t.name)) console.log(JSON.stringify(t));
await c.close();
