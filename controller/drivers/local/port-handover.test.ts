import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForHandover } from './port-handover.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function signalPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ood-handover-'));
  dirs.push(dir);
  return join(dir, '.ood-port-handover');
}

describe('waitForHandover', () => {
  it('ends when the game asks, when it exits, or at the timeout', async () => {
    const asked = signalPath();
    setTimeout(() => writeFileSync(asked, 'waiting\n'), 50);
    expect(await waitForHandover(process.pid, asked, 5_000)).toBe('asked');

    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 50)']);
    await new Promise((resolve) => child.once('spawn', resolve));
    expect(await waitForHandover(child.pid!, signalPath(), 5_000)).toBe('exited');

    const started = performance.now();
    expect(await waitForHandover(process.pid, signalPath(), 100)).toBe('timed out');
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
  });
});
