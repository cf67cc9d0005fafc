import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ImageBuildError } from './errors.js';

/** `ansible/site.yml` of this checkout, found from OoD's package directory (this module may be bundled into dist/). */
export const SITE_YML = join(packageRoot(), 'ansible', 'site.yml');

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export interface Progress {
  task: string;
  n: number;
  of: number;
  elapsedMs: number;
}

export interface PlaybookRun {
  /** Inventory host: an address (SSH) or, with `connection: 'community.general.chroot'`, a root directory. */
  host: string;
  connection?: 'ssh' | 'community.general.chroot';
  user?: string;
  privateKeyFile?: string;
  /** OpenSSH known_hosts holding the host's key: OoD knows it before connecting and checks it. */
  knownHostsFile?: string;
  extraVars: Record<string, unknown>;
  /** Everything ansible-playbook prints goes here, whole. */
  logFile: string;
  onProgress: (p: Progress) => void;
  playbook?: string;
  /** Runs the command through this prefix (a test's `unshare …`). */
  wrap?: string[];
}

export interface PlaybookResult {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  elapsedMs: number;
}

/**
 * Runs `ansible-playbook` through execa with live progress (task name, n of m, elapsed) and the full
 * log in a file. A failed play is an `ImageBuildError` naming the task that failed and the log.
 */
export async function runPlaybook(run: PlaybookRun): Promise<PlaybookResult> {
  const playbook = run.playbook ?? SITE_YML;
  const args = ['-i', `${run.host},`, '-e', JSON.stringify(run.extraVars)];
  if (run.connection && run.connection !== 'ssh') args.push('-c', run.connection);
  if (run.user) args.push('-u', run.user);
  if (run.privateKeyFile) args.push('--private-key', run.privateKeyFile);
  const env: Record<string, string> = {
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    PYTHONUNBUFFERED: '1',
    ...(run.knownHostsFile ? { ANSIBLE_SSH_ARGS: `-o UserKnownHostsFile=${run.knownHostsFile} -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s` } : {}),
  };
  const [wrapFile, ...wrapArgs] = run.wrap ?? [];
  // From the playbook's directory, so its ansible.cfg (roles path, pipelining) applies.
  const options = { env, reject: false, all: true, cwd: dirname(playbook) } as const;
  const command = (extra: string[]) => (wrapFile ? execa(wrapFile, [...wrapArgs, 'ansible-playbook', ...extra], options) : execa('ansible-playbook', extra, options));

  const listed = await command([...args, '--list-tasks', playbook]);
  if (listed.exitCode !== 0) throw new ImageBuildError(`ansible-playbook could not read ${playbook}: ${String(listed.all).trim().slice(-1_000)}`);
  const of = String(listed.all).split('\n').filter((l) => /^\s{6}\S.*TAGS:/.test(l)).length;

  const log = createWriteStream(run.logFile, { flags: 'a' });
  const started = performance.now();
  let n = 0;
  let lastTask = '';
  let recap = '';
  let inRecap = false;
  const child = command([...args, playbook]);
  child.all!.setEncoding('utf8');
  let pending = '';
  child.all!.on('data', (chunk: string) => {
    log.write(chunk);
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const task = /^TASK \[(.+?)\]/.exec(line);
      if (task) {
        lastTask = task[1]!;
        n += 1;
        run.onProgress({ task: lastTask, n, of: Math.max(of, n), elapsedMs: performance.now() - started });
      }
      if (/^PLAY RECAP/.test(line)) inRecap = true;
      else if (inRecap) recap += `${line}\n`;
    }
  });
  const result = await child;
  log.end();
  await once(log, 'close');
  const counts = (key: string) => [...recap.matchAll(new RegExp(`\\b${key}=(\\d+)`, 'g'))].reduce((sum, m) => sum + Number(m[1]), 0);
  const summary = { ok: counts('ok'), changed: counts('changed'), failed: counts('failed'), unreachable: counts('unreachable'), elapsedMs: performance.now() - started };
  if (result.exitCode !== 0) {
    const why = summary.unreachable > 0 ? 'the host was unreachable' : `task "${lastTask}" failed`;
    throw new ImageBuildError(`The playbook failed after ${Math.round(summary.elapsedMs / 1000)} s: ${why}. The whole log is in ${run.logFile}`);
  }
  return summary;
}
