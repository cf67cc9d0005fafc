import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Observation } from '../reconcile/types.js';
import { resumeSavingIfMarked, savingOffPath, withSavingPaused } from './saving-pause.js';

/** A game's console as vanilla answers it, recording what it was sent; `failOn` makes a command go unanswered. */
function vanilla(failOn?: string) {
  const sent: string[] = [];
  let saving = true;
  const send = async (command: string) => {
    sent.push(command);
    if (command === failOn) throw new Error(`RCON: no answer to ${command}`);
    if (command === 'save-off') return saving ? ((saving = false), 'Automatic saving is now disabled') : 'Saving is already turned off';
    if (command === 'save-on') return saving ? 'Saving is already turned on' : ((saving = true), 'Automatic saving is now enabled');
    if (command === 'save-all flush') return 'Saving the game (this may take a moment!)Saved the game';
    return '';
  };
  return { sent, send, saving: () => saving };
}

const answering: Observation = { host: 'present', machine: 'on', power: 'on', game: 'answering', players: { online: 1, max: 20, names: ['ann'] } };

describe('saving paused for a copy', () => {
  let dir: string;
  let marker: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-saving-'));
    marker = savingOffPath(dir, 'world');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('save-off, save-all flush, the copy with the marker written, save-on; then no marker', async () => {
    const game = vanilla();
    const seen: boolean[] = [];
    const { value, pausedMs } = await withSavingPaused(marker, game.send, async () => (seen.push(existsSync(marker), game.saving()), 'copied'));
    expect(value).toBe('copied');
    expect(pausedMs).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual([true, false]);
    expect(game.sent).toEqual(['save-off', 'save-all flush', 'save-on']);
    expect(game.saving()).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  it('turns saving on as soon as the copy says it has every byte (before its read-back), once', async () => {
    const game = vanilla();
    const seen: boolean[] = [];
    await withSavingPaused(marker, game.send, async (resume) => {
      await resume();
      seen.push(game.saving(), existsSync(marker));
      await resume();
    });
    expect(seen).toEqual([true, true]);
    expect(game.sent).toEqual(['save-off', 'save-all flush', 'save-on']);
    expect(existsSync(marker)).toBe(false);
  });

  it('sends save-on even when the copy or the save fails, and rethrows what failed', async () => {
    const game = vanilla();
    await expect(withSavingPaused(marker, game.send, async () => Promise.reject(new Error('tar exited with 2')))).rejects.toThrow('tar exited with 2');
    expect(game.sent.at(-1)).toBe('save-on');
    expect(game.saving()).toBe(true);
    expect(existsSync(marker)).toBe(false);

    const silent = vanilla('save-all flush');
    await expect(withSavingPaused(marker, silent.send, async () => 'never')).rejects.toThrow('no answer to save-all flush');
    expect(silent.sent).toEqual(['save-off', 'save-all flush', 'save-on']);
    expect(silent.saving()).toBe(true);
  });

  it('keeps the marker when save-on goes unanswered; the next check sends it again and removes the marker', async () => {
    const game = vanilla('save-on');
    await expect(withSavingPaused(marker, game.send, async () => 'copied')).rejects.toThrow(/The copy was stored, but the game did not confirm save-on/);
    expect(game.saving()).toBe(false);
    expect(existsSync(marker)).toBe(true);

    // The game's answer is what counts: a game that cannot be asked yet leaves the marker.
    expect(await resumeSavingIfMarked(marker, { ...answering, game: 'silent' }, game.send)).toBeNull();
    expect(existsSync(marker)).toBe(true);
    const healed = vanilla();
    await healed.send('save-off');
    expect(await resumeSavingIfMarked(marker, answering, healed.send)).toMatch(/^Turned saving back on \(save-on\), off since \d{4}-.* the game said "Automatic saving is now enabled"/);
    expect(healed.saving()).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(await resumeSavingIfMarked(marker, answering, healed.send)).toBeNull();
  });

  it('forgets a marker once the game has stopped or the host is gone (a game starts with saving on)', async () => {
    const game = vanilla('save-on');
    await expect(withSavingPaused(marker, game.send, async () => 'copied')).rejects.toThrow();
    expect(await resumeSavingIfMarked(marker, { host: 'present', machine: 'on', power: 'off', game: 'silent', players: null }, game.send)).toMatch(/the game has stopped/);
    expect(existsSync(marker)).toBe(false);
  });
});
