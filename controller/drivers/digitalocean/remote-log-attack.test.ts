// The droplet side of the console's log follow against a hostile log (issue 21): a line of 64 MiB with
// no newline at the log's end (a plugin printing a huge blob, a crash dumping binary). The local follower
// reads at most 4 MiB back for its tail (logs/local-follow.ts, MAX_TAIL_BYTES); `tail -n 500` reads back
// to the 500th newline, however far, and sends all of it over SSH on every follower start: each console
// opened after 30 s without viewers, each retry after a dropped connection.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followCommand } from './remote-log.js';

describe('followCommand against a log ending in one 64 MiB line', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ood-remote-log-attack-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends at most ~4 MiB of the log before following, as the local follower reads', async () => {
    const log = join(dir, 'minecraft.log');
    const conf = join(dir, 'minecraft.conf');
    writeFileSync(conf, `[program:minecraft]\nstdout_logfile=${log}\n`);
    writeFileSync(log, Buffer.concat([Buffer.from('a line\n'), Buffer.alloc(64 << 20, 0x78)]));
    const child = spawn('sh', ['-c', followCommand(500, conf)], { stdio: ['pipe', 'pipe', 'ignore'] });
    let bytes = 0;
    child.stdout.on('data', (b: Buffer) => (bytes += b.length));
    const exited = new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, 2_000));
    child.stdin.end();
    await exited;
    expect(bytes).toBeLessThanOrEqual((4 << 20) + (64 << 10));
  }, 20_000);
});
