import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../store/journal.js';
import type { TimelineSession } from '../store/session-timeline.js';
import { copyVersions, stopCopySessions } from './copy-versions.js';
import { digitalOceanVersions } from './versions.js';

const T = 1_800_000_000;
const copy = (ts: number) => ({ name: `ood-${ts}.tar.gz`, ts, bytes: 100 });
const step = (name: string, at: number, o: { phase?: JournalEntry['phase']; detail?: string } = {}): JournalEntry => ({ id: at, server: 'world', phase: o.phase ?? 'stopping', step: name, intentAt: at, detail: o.detail ?? null, outcome: 'ok', outcomeAt: at, error: null });
const session = (o: { start: number; end: number | null; finalSave?: number; players?: string[]; journal?: JournalEntry[] }): TimelineSession => ({
  startedAt: o.start * 1000,
  endedAt: o.end === null ? null : o.end * 1000,
  startedBy: { actor: 'github:1', name: 'ann', at: o.start * 1000 },
  endedBy: 'idle',
  players: o.players ?? ['ann'],
  playerSeconds: 60,
  driver: 'digitalocean',
  size: 's-1vcpu-2gb',
  usd: null,
  endedIn: null,
  journal: [...(o.finalSave === undefined ? [] : [step('stop_game', o.finalSave * 1000 + 400)]), ...(o.journal ?? [])],
});

/** What proves a copy is a stop's: made after that session's final save began and before its host was gone; the newest such. */
describe('the session a stop’s copy closed', () => {
  it('is the newest copy from the final save to the end; play copies, even in the save’s own second, close none', () => {
    const copies = [copy(T + 101), copy(T + 100), copy(T + 50), copy(T + 300)].sort((a, b) => b.ts - a.ts);
    const found = stopCopySessions(copies, [session({ start: T, end: T + 200, finalSave: T + 100 })]);
    expect([...found.keys()]).toEqual(['ood-1800000101.tar.gz']);
    expect(found.get('ood-1800000101.tar.gz')).toEqual({ started: T * 1000, by: 'ann', players: ['ann'], duration: 200 });
  });

  it('a stop that made no copy, a session with no final save (killed), and one still running close none', () => {
    const copies = [copy(T + 50)];
    expect(stopCopySessions(copies, [session({ start: T, end: T + 200, finalSave: T + 100 })]).size).toBe(0);
    expect(stopCopySessions(copies, [session({ start: T, end: T + 200 })]).size).toBe(0);
    expect(stopCopySessions([copy(T + 150)], [session({ start: T, end: null, finalSave: T + 100 })]).size).toBe(0);
  });

  it('the stop’s copy step naming its file is proof before any time: a play copy’s step (in running) never is', () => {
    const copies = [copy(T + 150), copy(T + 120), copy(T + 50)];
    const journal = [
      step('copy', (T + 50) * 1000, { phase: 'running', detail: `Copied the world (world) off the droplet to copies/ood-${T + 50}.tar.gz: 0.1 MB in 1.0 s` }),
      step('copy', (T + 120) * 1000, { phase: 'powering_off', detail: `Copied the world (world) off the droplet to copies/ood-${T + 120}.tar.gz: 0.1 MB in 1.0 s` }),
      step('copy', (T + 130) * 1000, { phase: 'powering_off', detail: 'Turned saving back on' }),
    ];
    expect([...stopCopySessions(copies, [session({ start: T, end: T + 200, finalSave: T + 100, journal })]).keys()]).toEqual([`ood-${T + 120}.tar.gz`]);
    // A stop with no stop_game (the game had crashed) still closes with the copy its step names.
    expect([...stopCopySessions(copies, [session({ start: T, end: T + 200, journal })]).keys()]).toEqual([`ood-${T + 120}.tar.gz`]);
    // Named but pruned since: no other copy is taken for it.
    expect(stopCopySessions([copy(T + 150)], [session({ start: T, end: T + 200, finalSave: T + 100, journal })]).size).toBe(0);
  });

  it('each of two sessions gets its own stop’s copy', () => {
    const copies = [copy(T + 1150), copy(T + 1050), copy(T + 150)];
    const found = stopCopySessions(copies, [session({ start: T + 1000, end: T + 1200, finalSave: T + 1100, players: ['bob'] }), session({ start: T, end: T + 200, finalSave: T + 100 })]);
    expect([...found].map(([name, s]) => [name, s.players])).toEqual([
      ['ood-1800001150.tar.gz', ['bob']],
      ['ood-1800000150.tar.gz', ['ann']],
    ]);
  });
});

describe('copies beside snapshots', () => {
  const snapshot = (id: string, ts: number) => ({ id, name: `ood-abcd-world-${ts}`, ts, createdAt: ts * 1000, sizeGigabytes: 1 });

  it('sort newest first together; a standing copy choice is the next start’s, else the chosen or newest snapshot', () => {
    const copies = copyVersions({ copies: [copy(T + 300), copy(T + 100)], dir: '/data/servers/world/copies', chosen: null, sessions: [] });
    expect(copies.map((c) => [c.id, c.file])).toEqual([
      [`copy-${T + 300}`, `/data/servers/world/copies/ood-${T + 300}.tar.gz`],
      [`copy-${T + 100}`, `/data/servers/world/copies/ood-${T + 100}.tar.gz`],
    ]);
    const snapshots = [snapshot('2', T + 200), snapshot('1', T)];
    const list = digitalOceanVersions({ snapshots, chosen: null, adoptedIds: new Set(), sessions: [], copies });
    expect(list.map((v) => [v.id, v.next])).toEqual([
      [`copy-${T + 300}`, false],
      ['do-2', true],
      [`copy-${T + 100}`, false],
      ['do-1', false],
    ]);
    const chosen = copyVersions({ copies: [copy(T + 300), copy(T + 100)], dir: '/d', chosen: { archive: `ood-${T + 100}.tar.gz`, ts: T + 100, chosenAt: '', by: 'admin' }, sessions: [] });
    const withChoice = digitalOceanVersions({ snapshots, chosen: { snapshotId: '1', name: 'x', chosenAt: '', source: 'restore' }, adoptedIds: new Set(), sessions: [], copies: chosen });
    expect(withChoice.filter((v) => v.next || v.chosen).map((v) => [v.id, v.next, v.chosen])).toEqual([
      [`copy-${T + 100}`, true, true],
      ['do-1', false, true],
    ]);
  });
});
