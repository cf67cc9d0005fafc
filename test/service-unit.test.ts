import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/readme.js';

const run = promisify(execFile);
const UNIT = join(REPO_ROOT, 'controller', 'service', 'ood.service');
/** Where README and the unit say the checkout lives; the test runs this one in its place. */
const INSTALLED = '/opt/ood';

/** The unit's `Key=Value` lines of one section, in order (a key may repeat, as Environment= does). */
function unitLines(section: string): [string, string][] {
  const lines: [string, string][] = [];
  let current = '';
  for (const raw of readFileSync(UNIT, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1]!;
    else if (current === section) {
      const eq = line.indexOf('=');
      lines.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return lines;
}

/** `systemd-analyze verify` exits 0 on unknown keys and only warns: anything it prints is a finding. */
async function verify(unit: string): Promise<string> {
  const res = await run('systemd-analyze', ['verify', unit]).then(
    (ok) => ({ code: 0, out: ok.stdout + ok.stderr }),
    (err: { code?: number | string; stdout?: string; stderr?: string }) => {
      if (err.code === 'ENOENT') throw new Error('systemd-analyze is not installed: apt-get install systemd (.ci/run installs it)');
      return { code: Number(err.code), out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    },
  );
  return res.code === 0 ? res.out.trim() : `exit ${res.code}: ${res.out.trim()}`;
}

describe('the systemd unit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ood-service-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes systemd-analyze verify with nothing to say', async () => {
    expect(await verify(UNIT)).toBe('');
  });

  it('is checked for real: a misspelled key is a finding', async () => {
    const copy = join(dir, 'ood.service');
    writeFileSync(copy, readFileSync(UNIT, 'utf8').replace(/^Restart=/m, 'Restrat='));
    expect(await verify(copy)).toMatch(/Unknown key 'Restrat'/);
  });

  /**
   * Its ExecStart with its Environment=, this checkout standing in for /opt/ood and temp paths for
   * /etc/ood and /var/lib/ood: the controller starts and says where it listens, stops on SIGTERM
   * (what `systemctl stop` sends) with exit 0, and a bad config ends it with the exit status the unit
   * does not restart on.
   */
  it('starts the controller as the service would, stops on SIGTERM, and ends a bad config with the status it does not restart', async () => {
    const service = unitLines('Service');
    const get = (key: string) => service.filter(([k]) => k === key).map(([, v]) => v);
    const place = (value: string) => value.replaceAll(INSTALLED, REPO_ROOT).replaceAll('/etc/ood', join(dir, 'etc')).replaceAll('/var/lib/ood', join(dir, 'state'));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const assignment of get('Environment')) {
      const eq = assignment.indexOf('=');
      env[assignment.slice(0, eq)] = place(assignment.slice(eq + 1));
    }
    expect(env.OOD_CONFIG).toBe(join(dir, 'etc', 'ood.yaml'));
    expect(get('StateDirectory')).toEqual(['ood']);
    const [file, ...args] = place(get('ExecStart')[0]!).split(' ');
    expect(file).toBe('/usr/bin/node');

    await run('mkdir', ['-p', join(dir, 'etc'), join(dir, 'state')]);
    writeFileSync(env.OOD_CONFIG!, stringify({ dataDir: join(dir, 'state'), listen: { host: '127.0.0.1', port: 0 }, servers: [{ id: 'world', driver: 'local' }] }));
    const child = spawn(process.execPath, args, { cwd: join(dir, 'state'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/OoD listening on http:\/\/127\.0\.0\.1:\d+/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/OoD listening on/);
    child.kill('SIGTERM');
    expect(await exited, out).toBe(0);

    writeFileSync(env.OOD_CONFIG!, stringify({ dataDir: join(dir, 'state'), servers: [{ id: 'world', idle: { emptyAfter: 'soon' } }] }));
    const bad = await run(process.execPath, args, { cwd: join(dir, 'state'), env }).then(() => 0, (err: { code: number }) => err.code);
    expect(String(bad)).toBe(get('RestartPreventExitStatus')[0]);
  }, 120_000);
});
