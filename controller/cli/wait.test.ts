import { describe, expect, it } from 'vitest';
import type { ServerJson } from '../api/server-json.js';
import type { ApiClient } from './api-client.js';
import { waitFor } from './wait.js';

/** A client whose server goes through `phases`, one per poll. */
function clientOf(phases: Pick<ServerJson, 'phase' | 'since'>[]): ApiClient {
  let poll = 0;
  const server = async () => ({ ...phases[Math.min(poll++, phases.length - 1)]!, address: 'localhost:25565', lastError: 'old failure' }) as ServerJson;
  return { server, journal: async () => [] } as unknown as ApiClient;
}
const out = { write: () => true, isTTY: false };

describe('waitFor', () => {
  it('does not take the failure it was asked to resume from as final', async () => {
    const old = { phase: 'failed' as const, since: '2026-11-25T10:00:00.000Z' };
    const client = clientOf([old, old, { phase: 'powering_off', since: '2026-11-25T11:00:01.000Z' }, { phase: 'archived', since: '2026-11-25T11:00:02.000Z' }]);
    await expect(waitFor(client, 'world', 'archived', { timeoutMs: 5_000, out, pollMs: 1, requested: old })).resolves.toBeUndefined();
  });

  it('a failure that began after the request is final', async () => {
    const old = { phase: 'failed' as const, since: '2026-11-25T10:00:00.000Z' };
    const client = clientOf([{ phase: 'booting', since: '2026-11-25T11:00:00.000Z' }, { phase: 'failed', since: '2026-11-25T11:00:05.000Z' }]);
    await expect(waitFor(client, 'world', 'running', { timeoutMs: 5_000, out, pollMs: 1, requested: old })).rejects.toThrow('world failed: old failure');
  });
});
