import { describe, expect, it } from 'vitest';
import type { ServerJson } from '../../api/server-json.js';
import { serverCard, type ServerCard } from './server-card.js';

const running = (copy: ServerJson['copy']): ServerJson => ({
  id: 'world', phase: 'running', desired: 'up', since: new Date(0).toISOString(), address: null, players: { online: 1, max: 20, names: ['ann'] },
  idle: { emptySince: null, stopsAt: null }, lastError: null, alert: null, tickError: null, copy,
});
const text = (s: ServerJson) => serverCard({ person: null } as never, { json: s, typicalStartMs: undefined, typicalStopMs: undefined, where: { driver: 'local' } } satisfies ServerCard, 60_000).text;

describe('a card and the copies of its world', () => {
  it('says a copy is being taken, and a failed one as a warning that leaves the server Up', () => {
    expect(text(running({ since: new Date(30_000).toISOString(), warning: null }))).toMatch(/<p class="copying">Copying the world to OoD's disk \(saving is paused meanwhile\), since <time/);
    const failed = text(running({ since: null, warning: 'tar of /srv/minecraft/world exited with 2: <no space>' }));
    expect(failed).toContain('<p class="warning">The last copy of the world failed; OoD tries again at the next one: tar of /srv/minecraft/world exited with 2: &lt;no space&gt;</p>');
    expect(failed).toContain('Up</p>');
    expect(failed).not.toContain('Needs attention');
    expect(text(running({ since: null, warning: null }))).not.toMatch(/copying|warning/);
  });
});
