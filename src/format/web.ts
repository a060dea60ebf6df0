import { dataCenterOfApiDomain, webOriginFor, type Config } from "../config.js";
import type { ZohoClient } from "../zoho/client.js";
import type { ModuleCatalog } from "../zoho/metadata.js";
import { knownModules, webModuleName } from "../zoho/modules.js";

/**
 * Zoho CRM web addresses: `https://crm.zoho.{tld}/crm/{org}/tab/{Module}/{id}`, what a person's
 * browser shows for a record. `{org}` is the org's `domain_name` from `GET /crm/v7/org` (Zoho sets
 * it to `org{zgid}`, e.g. org74822955, unless the administrator chose a name, and the web client
 * puts that same value in its addresses); `{Module}` is the module's internal `module_name` from the
 * Modules API (`Potentials` for Deals, `CustomModule3` for a custom module). The host never decides
 * where a request goes: only the module and the id are read from a pasted address.
 */

/** `/crm/{org}/tab/{Module}/{id}` on a Zoho CRM web host (crm, crmsandbox; zoho.* or zohocloud.ca). */
const WEB_ADDRESS = /^https?:\/\/(?:crm|crmsandbox)\.(?:zoho|zohocloud)\.[a-z.]{2,10}\/crm\/(?:[A-Za-z0-9._-]+\/)?tab\/([A-Za-z][A-Za-z0-9_]{0,99})\/(\d{1,30})(?:[/?#].*)?$/;

export interface WebReference {
  /** The module as the address names it (its module_name: Potentials, CustomModule3, Leads). */
  webModule: string;
  recordId: string;
}

/** The module and record id of a pasted Zoho CRM web address; undefined when it is not one. */
export function parseWebAddress(text: string): WebReference | undefined {
  const m = WEB_ADDRESS.exec(text.trim());
  return m ? { webModule: m[1]!, recordId: m[2]! } : undefined;
}

/** Looks like an address someone pasted (so the error can say it is not a Zoho CRM record's). */
export function looksLikeAddress(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim());
}

/**
 * The web origin of the CRM the requests go to: the data center of the API domain in use (a
 * signed-in user's own, or the token's), else the configured ZOHO_DC (a pinned or demo host).
 */
export function webOrigin(config: Config, client: ZohoClient): string {
  const domain = config.apiDomainPinned ? config.apiDomain : (client.tokens.apiDomain ?? config.apiDomain);
  return webOriginFor(dataCenterOfApiDomain(domain) ?? config.dc, config.environment);
}

/**
 * Builds web addresses for records of any module: one org lookup (cached) for all of them. Started
 * beside a tool's requests; asked for once the answer is ready, it waits at most WEB_WAIT_MS more
 * (one wait per call, however many modules ask), so a slow GET /org never holds an answer up.
 */
export interface WebAddresses {
  /** `https://crm.zoho.com/crm/org123/tab/{Module}` for an API module name; undefined without the org. */
  base(apiName: string): Promise<string | undefined>;
  /** Why there are none (the org could not be read, or not in time), once per result. */
  missing(): Promise<string | undefined>;
}

/** How long an answer that is ready waits for its web addresses: a slow GET /org never holds it up. */
export const WEB_WAIT_MS = 2_000;

/** The value, or undefined when it takes WEB_WAIT_MS more (from now, when the answer is ready). */
function whenReady<T>(value: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), WEB_WAIT_MS);
    timer.unref();
  });
  return Promise.race([value, late]).finally(() => clearTimeout(timer));
}

type OrgWeb = { org: string; list: Awaited<ReturnType<typeof knownModules>>["list"] } | { missing: string };

export function webAddresses(config: Config, client: ZohoClient, modules: ModuleCatalog): WebAddresses {
  // The modules' web names (Modules API, cached; never fails) are read beside the org, not after
  // it: a cold search would otherwise pay one more round trip once its searches are in.
  const listed = knownModules(modules);
  const read: Promise<OrgWeb> = modules.org().then(
    async (meta): Promise<OrgWeb> => {
      const org = meta.domain_name ?? (meta.zgid ? `org${meta.zgid}` : null);
      return org ? { org, list: (await listed).list } : { missing: "No web addresses: GET /crm/v7/org named no domain_name." };
    },
    (error: unknown) => ({ missing: `No web addresses: the org could not be read (${error instanceof Error ? error.message : String(error)}; it needs ZohoCRM.org.READ).` }),
  );
  let ready: Promise<OrgWeb> | undefined;
  const settled = () =>
    (ready ??= whenReady(read).then((r) => r ?? { missing: `No web addresses this time: GET /crm/v7/org did not answer within ${WEB_WAIT_MS / 1000} s of the rest.` }));
  return {
    base: async (apiName) => {
      const r = await settled();
      return "org" in r ? `${webOrigin(config, client)}/crm/${r.org}/tab/${webModuleName(apiName, r.list)}` : undefined;
    },
    missing: async () => {
      const r = await settled();
      return "missing" in r ? r.missing : undefined;
    },
  };
}

/** "Open in Zoho: {address}", the one way results point at the CRM's web page (mid-line: "; open in Zoho: ..."). */
export function openInZoho(address: string, midLine = false): string {
  return `${midLine ? "open" : "Open"} in Zoho: ${address}`;
}
