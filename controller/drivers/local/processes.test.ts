import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findHostProcesses, HostProcesses, killAndWait, MARKER, observeHostProcesses, signalAll, spawnHostProcess } from './processes.js';

const IDLE = [process.execPath, '-e', 'setInterval(() => {}, 1000)'];

describe('finding a host’s game processes in /proc (real processes)', () => {
  let dir: string;
  let hostDir: string;
  const children: ChildProcess[] = [];

  /** A process that idles with `env` as its whole environment (in that order). */
  const start = async (env: Record<string, string>) => {
    const child = spawn(IDLE[0]!, IDLE.slice(1), { env, stdio: 'ignore' });
    await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    children.push(child);
    return child;
  };
  const end = async (child: ChildProcess) => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited; // reaped: its pid is gone from /proc
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-processes-'));
    hostDir = join(dir, 'host');
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null).map(end));
    rmSync(dir, { recursive: true, force: true });
  });

  it('killAndWait returns once a stopped process holding a port has ended, so the port can be bound again', async () => {
    // A stopped game (a hung one) with memory to free: woken by SIGKILL only to die, which takes a moment.
    const holder = spawn(process.execPath, ['-e', `const b = Buffer.alloc(300e6, 1); require('net').createServer().listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + ' ' + b[0]); })`], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    children.push(holder);
    const port = Number((await new Promise<string>((resolve) => holder.stdout!.once('data', (d: Buffer) => resolve(d.toString())))).split(' ')[0]);
    process.kill(holder.pid!, 'SIGSTOP');
    const { sent, left } = await killAndWait([holder.pid!]);
    expect(sent).toEqual([holder.pid]);
    expect(left).toEqual([]);
    // What a boot's port check does next: bind it, SO_REUSEADDR as Node always sets.
    const bound = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const server = createServer();
      server.once('error', resolve);
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
    });
    expect(bound?.code).toBeUndefined();
  });

  it('finds a process by its marker, first or later in its environment, and not once it is gone', async () => {
    const first = await start({ [MARKER]: hostDir, PATH: process.env.PATH ?? '' });
    const later = await start({ PATH: process.env.PATH ?? '', [MARKER]: hostDir, HOME: dir });
    expect(await findHostProcesses(hostDir)).toEqual([first.pid, later.pid].sort((a, b) => a! - b!));
    await end(first);
    expect(await findHostProcesses(hostDir)).toEqual([later.pid]);
    await end(later);
    expect(await findHostProcesses(hostDir)).toEqual([]);
  });

  it('finds the marker past the first read of a large environment', async () => {
    const game = await start({ BIG: 'x'.repeat(40_000), [MARKER]: hostDir });
    expect(await findHostProcesses(hostDir)).toEqual([game.pid]);
    const processes = new HostProcesses();
    processes.started(hostDir, game.pid!);
    expect(await processes.observe(hostDir, false)).toEqual([game.pid]);
  });

  it('does not take another host’s marker, a longer path, or the marker inside another value for it', async () => {
    await start({ [MARKER]: join(dir, 'other') });
    await start({ [MARKER]: `${hostDir}-2` });
    await start({ NOTE: `${MARKER}=${hostDir}` });
    expect(await findHostProcesses(hostDir)).toEqual([]);
    expect(await new HostProcesses().observe(hostDir, true)).toEqual([]);
  });

  it('sees a game it started without a scan, and forgets it once it has exited', async () => {
    const pid = await spawnHostProcess({ command: IDLE, hostDir: dir, logFile: join(dir, 'game.log'), env: { PATH: process.env.PATH ?? '' } });
    // Known from the spawn: seen even where no scan is made (no host directory).
    expect(await observeHostProcesses(dir, false)).toEqual([pid]);
    signalAll([pid], 'SIGKILL');
    await waitFor(async () => (await observeHostProcesses(dir, true)).length === 0);
    expect(await findHostProcesses(dir)).toEqual([]);
  });

  it('does not count a remembered pid that another process now holds (pid reuse)', async () => {
    const processes = new HostProcesses();
    const stranger = await start({ PATH: process.env.PATH ?? '' });
    // As if the game had exited and its pid gone to this unmarked process.
    processes.started(hostDir, stranger.pid!);
    expect(await processes.observe(hostDir, false)).toEqual([]);
    expect(await processes.observe(hostDir, true)).toEqual([]);
    // Forgotten, not just skipped: marking it now makes no difference without a scan.
    const game = await start({ [MARKER]: hostDir });
    expect(await processes.observe(hostDir, false)).toEqual([]);
    expect(await processes.find(hostDir)).toEqual([game.pid]);
  });

  it('skips the scan while the host directory is absent, and finds an unknown game once it exists', async () => {
    const processes = new HostProcesses();
    const game = await start({ [MARKER]: hostDir });
    expect(await processes.observe(hostDir, false)).toEqual([]);
    expect(await processes.observe(hostDir, true)).toEqual([game.pid]); // adoption after a restart
    expect(await processes.observe(hostDir, false)).toEqual([game.pid]); // now known, checked directly
  });

  it('shares a scan between observations for a while, but find always scans anew', async () => {
    let now = 0;
    const processes = new HostProcesses(1_000, () => now);
    expect(await processes.observe(hostDir, true)).toEqual([]);
    const game = await start({ [MARKER]: hostDir });
    now = 900;
    expect(await processes.observe(hostDir, true)).toEqual([]); // the shared scan from before the start
    expect(await processes.find(hostDir)).toEqual([game.pid]);
    await end(game);
    // The shared (newer) scan lists the game, but it is checked before it counts.
    expect(await processes.observe(hostDir, true)).toEqual([]);
    const again = await start({ [MARKER]: hostDir });
    now = 2_000;
    expect(await processes.observe(hostDir, true)).toEqual([again.pid]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
