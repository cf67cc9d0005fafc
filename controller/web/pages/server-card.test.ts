import { describe, expect, it } from 'vitest';
import type { ServerJson } from '../../api/server-json.js';
import type { Desired, Phase } from '../../reconcile/types.js';
import { cardState, serverCard, type ServerCard } from './server-card.js';

const admin = { person: { identity: 'local:admin', name: 'admin', avatar: null, permissions: ['admin'] as const, minecraftName: null, addedAt: 0, addedBy: 'test', lastLogin: null }, csrf: 'x' };

const json = (desired: Desired, phase: Phase, alert: string | null = null, lastError: string | null = null): ServerJson => ({
  id: 'world', phase, desired, since: new Date(0).toISOString(), address: null, players: { online: 0, max: 0, names: [] },
  idle: { emptySince: null, stopsAt: null }, lastError, alert, tickError: null,
});
const card = (s: ServerJson): ServerCard => ({ json: s, typicalStartMs: undefined, typicalStopMs: undefined, where: { driver: 'digitalocean', region: 'fra1', size: 's-1vcpu-1gb' } });
const buttons = (s: ServerJson) => [...serverCard(admin as never, card(s), 0).text.matchAll(/<button type="submit"[^>]*>([^<]+)</g)].map((m) => m[1]);

describe('a card says one thing: its label and buttons come from (desired, phase, alert)', () => {
  // [desired, phase, alert?] → label, Start?, Stop?
  const table: [Desired, Phase, string | null, string, boolean, boolean][] = [
    ['down', 'archived', null, 'Asleep', true, false],
    ['up', 'archived', null, 'Starting: waking up', false, true],
    ['up', 'provisioning', null, 'Starting: getting the machine ready', false, true],
    ['up', 'booting', null, 'Starting: the world is loading', false, true],
    ['up', 'running', null, 'Up', false, true],
    // Stop was pressed and the loop has not moved yet: never "Up" with a Start button.
    ['down', 'running', null, 'Stopping: about to save the world', false, false],
    ['down', 'booting', null, 'Stopping: about to save the world', false, false],
    ['down', 'stopping', null, 'Stopping: saving the world', false, false],
    ['down', 'snapshotting', null, 'Stopping: archiving the world', false, false],
    // Start pressed during a stop: the stop finishes first, then it starts again.
    ['up', 'snapshotting', null, 'Stopping, then starting again', false, true],
    ['up', 'failed', null, 'Needs attention', true, true],
    ['down', 'failed', null, 'Needs attention', true, true],
    // Wanted up but every check fails (DigitalOcean unreachable): not "Asleep" with only Stop.
    ['up', 'archived', 'OoD could not check on world', 'Needs attention', true, true],
    ['down', 'running', 'OoD could not check on world', 'Needs attention', true, true],
  ];
  it.each(table)('wanted %s while %s (alert %s) → %s', (desired, phase, alert, label, start, stop) => {
    expect(cardState(json(desired, phase, alert))).toMatchObject({ label, start, stop });
    const shown = buttons(json(desired, phase, alert));
    expect(shown.includes('Start'), 'Start button').toBe(start);
    expect(shown.includes('Stop'), 'Stop button').toBe(stop);
    expect(serverCard(admin as never, card(json(desired, phase, alert)), 0).text).toContain(label);
  });

  it('keep alive only while up and wanted up', () => {
    expect(buttons(json('up', 'running'))).toContain('Keep alive');
    expect(buttons(json('down', 'running'))).not.toContain('Keep alive');
  });

  it('shows what is wrong beside the buttons that help', () => {
    const text = serverCard(admin as never, card(json('up', 'archived', 'OoD could not check on world: DigitalOcean did not answer', 'DigitalOcean did not answer')), 0).text;
    expect(text).toContain('OoD could not check on world: DigitalOcean did not answer');
  });
});
