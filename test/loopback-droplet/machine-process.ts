import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile, readlink, rm, mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { DropletPaths } from './droplet-files.js';
import { LoopbackDropletError } from './errors.js';

/** A powered-on loopback droplet: `unshare`, its child the droplet's PID 1, and that PID namespace. */
export interface RunningMachine {
  unshare: ChildProcess;
  /** Host pid of the droplet's init (PID 1 inside). */
  initPid: number;
  /** `pid:[inode]` of the droplet's PID namespace: every process of the droplet is in it. */
  pidNamespace: string;
  exited: Promise<void>;
}

/** The environment of the droplet's init, supervisord and game: a clean one, not the test runner's. */
const MACHINE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };

/**
 * Powers the droplet on: runs its init in new PID and mount namespaces and resolves when sshd answers
 * on `ipv4`:22 with an SSH banner and supervisord answers on its socket.
 */
export async function bootMachine(label: string, paths: DropletPaths, ipv4: string, timeoutMs: number): Promise<RunningMachine> {
  // Else the readiness check below would take another sshd's banner for this droplet's.
  if (await answersSsh(ipv4)) throw new LoopbackDropletError(`${label} cannot boot: something already answers SSH on ${ipv4}:22 (another droplet or test uses this address)`);
  // /run is a tmpfs on a real machine: nothing of the last boot (pid files, sockets) survives.
  await rm(paths.run, { recursive: true, force: true });
  await mkdir(paths.run, { recursive: true });
  const initLog = join(paths.log, 'init.log');
  const logFd = openSync(initLog, 'a');
  let unshare: ChildProcess;
  try {
    unshare = spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount', '--propagation', 'private', '--mount-proc', '/bin/sh', paths.init], {
      cwd: '/',
      env: MACHINE_ENV,
      stdio: ['pipe', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  // The pipe is the droplet's power cord (see init.sh); nothing is written to it.
  unshare.stdin!.on('error', () => undefined);
  let ended: string | undefined;
  const exited = new Promise<void>((resolve) => {
    unshare.once('error', (err) => {
      ended = `could not run unshare: ${err.message}`;
      resolve();
    });
    unshare.once('exit', (code, signal) => {
      ended = `its init exited (${signal ?? `code ${code}`})`;
      resolve();
    });
  });
  let initPid: number | undefined;
  const fail = async (what: string, cause?: unknown): Promise<never> => {
    // Through init when known, so that unshare's exit means its whole namespace is gone.
    if (initPid && unshare.exitCode === null && unshare.signalCode === null) signal(initPid, 'SIGKILL');
    else unshare.kill('SIGKILL');
    await exited;
    const log = await readFile(initLog, 'utf8').catch((err: Error) => `(no init log: ${err.message})`);
    throw new LoopbackDropletError(`${label} did not boot: ${what}. Its init log (${initLog}) ends: ${log.slice(-600)}`, { cause });
  };

  const deadline = Date.now() + timeoutMs;
  let pidNamespace: string | undefined;
  let sshdUp = false;
  let supervisordUp = false;
  let last: unknown;
  while (!(initPid && sshdUp && supervisordUp)) {
    if (ended) return fail(ended);
    if (Date.now() > deadline) return fail(`within ${timeoutMs} ms, ${!initPid ? 'its init did not start' : !sshdUp ? `sshd did not answer on ${ipv4}:22` : `supervisord did not answer on ${paths.supervisorSocket}`}`, last);
    try {
      if (!initPid) {
        const child = await childOf(unshare.pid!);
        // Forked after unshare(CLONE_NEWPID), so born in the droplet's namespace.
        if (child) pidNamespace = await readlink(`/proc/${child}/ns/pid`);
        initPid = child;
      }
      sshdUp ||= await answersSsh(ipv4);
      supervisordUp ||= await answersSupervisor(paths.supervisorSocket);
    } catch (err) {
      last = err;
    }
    if (!(initPid && sshdUp && supervisordUp)) await sleep(100);
  }
  return { unshare, initPid, pidNamespace: pidNamespace!, exited };
}

/**
 * Powers the droplet off. Graceful: SIGTERM to its init, which shuts supervisord (and so the game)
 * down, then sshd; after `graceMs` it is killed. Hard: SIGKILL to init, and the kernel kills every
 * process in its PID namespace. Resolves when no process of the droplet is left.
 */
export async function stopMachine(label: string, machine: RunningMachine, graceful: boolean, graceMs: number): Promise<void> {
  if (graceful) {
    if (running(machine)) signal(machine.initPid, 'SIGTERM');
    if (await within(machine.exited, graceMs)) return confirmGone(label, machine);
  }
  // unshare reaps init only once the kernel has killed and reaped everything else in its namespace.
  if (running(machine)) signal(machine.initPid, 'SIGKILL');
  if (!(await within(machine.exited, 5_000))) {
    // An unshare that hangs: killing it kills init too (--kill-child), but without waiting for the rest.
    machine.unshare.kill('SIGKILL');
    await within(machine.exited, 5_000);
  }
  return confirmGone(label, machine);
}

/** Waits (briefly: SIGKILLed processes exit at once) until no process of the droplet is left. */
async function confirmGone(label: string, machine: RunningMachine): Promise<void> {
  machine.unshare.stdin?.destroy();
  const deadline = Date.now() + 5_000;
  for (;;) {
    const left = await machinePids(machine.pidNamespace);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new LoopbackDropletError(`${label} did not stop: processes ${left.join(', ')} (host pids) of its PID namespace still run 5 s after its init ${machine.initPid} was killed; look at them with ps`);
    await sleep(100);
  }
}

/** Host pids of every process in the PID namespace `pidNamespace` (`pid:[inode]`). */
export async function machinePids(pidNamespace: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ns = await readlink(`/proc/${entry}/ns/pid`).catch(() => undefined);
    if (ns === pidNamespace) found.push(Number(entry));
  }
  return found;
}

async function childOf(pid: number): Promise<number | undefined> {
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim();
  return children ? Number(children.split(/\s+/)[0]) : undefined;
}

function answersSsh(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: 22 });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.once('data', (data) => done(data.toString('latin1').startsWith('SSH-2.0-')));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Asks supervisord for its state over its XML-RPC socket, as supervisorctl does. */
function answersSupervisor(socketPath: string): Promise<boolean> {
  const body = '<?xml version="1.0"?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>';
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/RPC2', method: 'POST', headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) }, timeout: 1_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && text.includes('RUNNING')));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

/** While unshare runs, it has not reaped init, so `initPid` still names the droplet's init. */
function running(machine: RunningMachine): boolean {
  return machine.unshare.exitCode === null && machine.unshare.signalCode === null;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    // Already gone is what we want; anything else (EPERM) is not.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
