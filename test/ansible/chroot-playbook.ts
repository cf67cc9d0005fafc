import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's ansible/ directory: the playbook runs from there so ansible.cfg applies. */
export const ANSIBLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'ansible');

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
}

export class ChildCommandError extends Error {
  override name = 'ChildCommandError';
}

/**
 * Runs a command to its end with stdout and stderr interleaved in one string. On timeout it SIGKILLs
 * the child it started (by pid); for `unshare --kill-child` that also ends every process of the
 * namespace, so nothing outlives the test.
 */
export async function runCommand(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<CommandResult> {
  const started = Date.now();
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const timer = setTimeout(() => { child.kill('SIGKILL'); }, options.timeoutMs);
  try {
    return await new Promise<CommandResult>((resolve, reject) => {
      child.once('error', (err) => { reject(new ChildCommandError(`Could not run ${command}: ${err.message}; is it installed?`, { cause: err })); });
      child.once('close', (code, signal) => { resolve({ code, signal, output, ms: Date.now() - started }); });
    });
  } finally {
    clearTimeout(timer);
  }
}

/*
 * Inside a private mount namespace (unshare makes its mounts private) and PID namespace: mount what the
 * chroot's package scripts need, then run the playbook. When the namespace's first process ends, the
 * kernel kills the rest and drops every mount made here; the host's mount table never sees them.
 */
const IN_NAMESPACE = `set -eu
root=$1; shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
[ -e "$root/etc/resolv.conf" ] || : > "$root/etc/resolv.conf"
mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
ansible-playbook "$@"
`;

/** `ansible-playbook site.yml` against a Debian root through the chroot connection, in its own namespaces; `extraArgs` such as `--tags minecraft`. */
export async function playInChroot(root: string, extraVarsFile: string, timeoutMs: number, extraArgs: string[] = []): Promise<CommandResult> {
  const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', PY_COLORS: '0' };
  return runCommand('unshare', [
    '--mount', '--pid', '--fork', '--kill-child', '--mount-proc',
    'sh', '-c', IN_NAMESPACE, 'in-namespace', root,
    '-i', `${root},`, '-c', 'community.general.chroot', '-e', `@${extraVarsFile}`, ...extraArgs, 'site.yml',
  ], { cwd: ANSIBLE_DIR, env, timeoutMs });
}

export interface Recap { ok: number; changed: number; unreachable: number; failed: number }

/** The PLAY RECAP line of one host, e.g. `/tmp/r : ok=40 changed=0 unreachable=0 failed=0 …`. */
export function playRecap(output: string, host: string): Recap {
  const line = output.split('\n').find((l) => l.startsWith(`${host} `) && l.includes(' ok='));
  if (!line) throw new ChildCommandError(`ansible-playbook printed no PLAY RECAP line for ${host}; its output ends: ${output.slice(-2000)}`);
  const num = (key: string) => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)?.[1] ?? NaN);
  return { ok: num('ok'), changed: num('changed'), unreachable: num('unreachable'), failed: num('failed') };
}

/** Mount points at or under `dir` in this process's mount table (field 5 of mountinfo). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Pids of processes whose root directory is `dir` (chrooted into it): there should be none left. */
export function processesRootedIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let root: string;
    try {
      root = readlinkSync(`/proc/${entry}/root`);
    } catch (err) {
      // The process ended while we looked, or is not ours to inspect: neither is chrooted into dir.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EACCES') continue;
      throw err;
    }
    if (root === dir || root.startsWith(`${dir}/`)) pids.push(Number(entry));
  }
  return pids;
}
