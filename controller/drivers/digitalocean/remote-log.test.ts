import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/helpers/wait.js';
import { followCommand, tailNote } from './remote-log.js';

/** Whether a process with this pid still runs (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return true;
}

// The droplet side of the follow, run here by sh as sshd would run it: the same command string.
describe('followCommand', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ood-remote-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("tails the program's stdout_logfile (supervisord's %% read as %), follows a rename, and its tail ends with its stdin", async () => {
    const log = join(dir, 'mine%craft.log');
    const conf = join(dir, 'minecraft.conf');
    writeFileSync(conf, `[program:minecraft]\ncommand=/bin/true\nstdout_logfile = ${log.replace('%', '%%')}  \nredirect_stderr=true\n`);
    writeFileSync(log, 'one\ntwo\nthree\n');
    const child = spawn('sh', ['-c', `${followCommand(2, conf)}; echo "tail:$t" >&2`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await waitUntil('the last two lines', () => out === 'two\nthree\n', 5_000);
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, 'late in the old file\n');
    writeFileSync(log, 'new file\n');
    await waitUntil('the new file', () => out.includes('new file\n'), 10_000).catch((e: Error) => {
      throw new Error(`${e.message}; out ${JSON.stringify(out)}, err ${JSON.stringify(err)}`);
    });
    expect(err.split('\n').map(tailNote).filter(Boolean)).toContain('log rotated; reading the new file');
    child.stdin.end();
    expect(await exited).toBe(0);
    const tailPid = Number(/tail:(\d+)/.exec(err)?.[1]);
    expect(tailPid).toBeGreaterThan(0);
    await waitUntil('tail to be gone', () => !alive(tailPid), 2_000);
  });

  it("says tail's rotation and truncation in OoD's words, and nothing of the moment between", () => {
    expect(tailNote("tail: '/var/log/supervisor/minecraft.log' has become inaccessible: No such file or directory")).toBeUndefined();
    expect(tailNote("tail: '/var/log/supervisor/minecraft.log' has appeared;  following new file")).toBe('log rotated; reading the new file');
    expect(tailNote('tail: /var/log/supervisor/minecraft.log: file truncated')).toBe('log truncated; reading it from the start');
  });

  it('falls back to /var/log/supervisor/minecraft.log without a program file', () => {
    expect(followCommand(500, join(dir, 'missing.conf'))).toContain('log=/var/log/supervisor/minecraft.log');
    expect(followCommand(500)).toContain('tail -n 500 --');
    expect(followCommand(500)).toContain('-F --');
  });
});
