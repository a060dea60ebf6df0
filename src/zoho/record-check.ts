import { crmPath, type ZohoClient } from "./client.js";
import { ZohoError } from "./errors.js";

/**
 * Whether a record is in a module, asked of Zoho's Get Record (`GET /crm/v7/{module}/{id}`) when a
 * related list answered INVALID_DATA: Zoho gives the same code for a list that is missing and for a
 * record id that is not in the module (a lead's id given as an Account), and only the second is
 * about the call itself. Returns the error to report when Get Record also finds no such record
 * (INVALID_DATA, or an empty answer); undefined when it finds it or cannot tell (no permission, no
 * scope, a failure of its own).
 */
export async function recordNotInModule(client: ZohoClient, module: string, recordId: string, signal?: AbortSignal): Promise<ZohoError | undefined> {
  let found: boolean;
  try {
    const { body } = await client.get(crmPath({ apiName: module }, { recordId }), { signal });
    found = Array.isArray(body?.data) && body.data.length > 0;
  } catch (error) {
    if (!(error instanceof ZohoError) || error.code !== "INVALID_DATA") return undefined;
    found = false;
  }
  if (found) return undefined;
  return notInModule(module, recordId);
}

/** The record is not in the module (Get Record finds no such record): the error and what to check. */
export function notInModule(module: string, recordId: string, cause?: unknown): ZohoError {
  return new ZohoError({
    status: 400,
    code: "INVALID_DATA",
    message: `record ${recordId} is not in ${module}: Zoho's Get Record finds no such ${module} record`,
    details: { module_api_name: module, record_id: recordId },
    hint: `Check module_api_name and record_id: the id may belong to another module's record (a lead's id given as an Account, say), or the record was deleted. Zoho answers a related list of a record it cannot find in the module with INVALID_DATA, as for a missing list.`,
    cause,
  });
}
