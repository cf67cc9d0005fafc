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

describe('waitFor, what it prints', () => {
  const journal = async () => [
    { id: 1, phase: 'archived', step: 'phase', intentAt: new Date(0).toISOString(), outcome: 'ok', outcomeAt: null, detail: 'archived → provisioning: x', error: null },
    { id: 2, phase: 'running', step: 'phase', intentAt: new Date(600_000).toISOString(), outcome: 'ok', outcomeAt: null, detail: 'booting → running: boot done', error: null },
  ];

  it('says nothing is left once it is done', async () => {
    const lines: string[] = [];
    const server = async () => ({ phase: 'running', since: '2026-11-25T11:00:00.000Z', address: '203.0.113.7:25565', lastError: null, tickError: null }) as unknown as ServerJson;
    await waitFor({ server, journal } as unknown as ApiClient, 'world', 'running', { timeoutMs: 5_000, out: { write: (l: string) => lines.push(l) > 0, isTTY: false }, pollMs: 1 });
    expect(lines.join('')).not.toMatch(/left/);
    expect(lines.join('')).toContain('world is running at 203.0.113.7:25565');
  });

  it('ends at once, failing, when a check of the server fails after the request', async () => {
    const before = { message: 'old trouble', since: '2026-11-25T10:00:00.000Z', lastAt: '2026-11-25T10:00:00.000Z', failures: 3 };
    const after = { ...before, message: 'DigitalOcean GET /v2/droplets failed: no answer', lastAt: '2026-11-25T10:00:20.000Z', failures: 4 };
    let poll = 0;
    const server = async () => ({ phase: 'archived', desired: 'up', since: '2026-11-25T09:00:00.000Z', lastError: after.message, tickError: poll++ === 0 ? before : after }) as unknown as ServerJson;
    const started = Date.now();
    const waiting = waitFor({ server, journal } as unknown as ApiClient, 'world', 'running', { timeoutMs: 60_000, out, pollMs: 1, requested: { phase: 'archived', since: '2026-11-25T09:00:00.000Z', tickError: before } as never });
    await expect(waiting).rejects.toThrow(/world: OoD could not check on it \(4 failures in a row\): DigitalOcean GET \/v2\/droplets failed: no answer/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
