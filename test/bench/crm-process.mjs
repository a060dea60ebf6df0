// The demo CRM in a process of its own, so the server under test and the plain baseline client
// share the CPU with it the same way. Started by run.mjs with fork(): it sends {url} once it
// listens, and takes {latencyMs} messages (answered with {ok}) until its parent disconnects.
import { startDemoCrm } from "../../dist/demo/crm.js";

const crm = await startDemoCrm({ latencyMs: Number(process.env.BENCH_LATENCY_MS ?? 0) });
process.on("message", (message) => {
  if (typeof message?.latencyMs === "number") crm.faults.latencyMs = message.latencyMs;
  process.send?.({ ok: true, stats: { crmRequests: crm.stats.crmRequests, maxInFlight: crm.stats.maxInFlight } });
});
process.on("disconnect", () => void crm.close().finally(() => process.exit(0)));
process.send?.({ url: crm.url });
