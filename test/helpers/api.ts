import type { ServerJson } from '../../controller/api/server-json.js';
import type { JournalJson } from '../../controller/cli/api-client.js';

export const TEST_TOKEN = 'test-admin-token-0123456789';

/** Raw API calls, as a script with `OOD_ADMIN_TOKEN` would make them. */
export function apiFor(url: string, token = TEST_TOKEN) {
  const call = async (method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${token}`, ...init.headers }, ...(init.body === undefined ? {} : { body: init.body }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return {
    call,
    server: async (id = 'world') => (await call('GET', `/api/servers/${id}`)).body as unknown as ServerJson,
    start: (id = 'world') => call('POST', `/api/servers/${id}/start`),
    stop: (id = 'world') => call('POST', `/api/servers/${id}/stop`),
    journal: async (id = 'world') => ((await call('GET', `/api/servers/${id}/journal`)).body as { journal: JournalJson[] }).journal,
  };
}
