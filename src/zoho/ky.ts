/**
 * ky, loaded on the first Zoho request rather than at start-up: importing it sets up undici's
 * fetch, which a server that has only answered initialize and tools/list (every cold start) never
 * needs. One shared import, whoever asks first.
 */
let loading: Promise<typeof import("ky")> | undefined;

export function loadKy(): Promise<typeof import("ky")> {
  return (loading ??= import("ky"));
}
