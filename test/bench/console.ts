/**
 * Issue 21's console under load: a local server whose game prints 100 lines a second (RCON `say` from
 * the load process), watched by 100 open console streams (the page's SSE route, 13 logins with
 * `console`, from 7 loopback addresses of a claimed block so the per-person and per-address caps hold).
 * The controller runs in this process (the logins need its store); the streams and the `say` loop run
 * in their own process (console-clients.ts), so this process's CPU and RSS are the controller's.
 * Baseline: the same chatty game with no console open (the hub follows nothing then).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProperties } from '../../controller/minecraft/properties.js';
import { apiFor } from '../helpers/api.js';
import { serveInProcess } from '../helpers/in-process.js';
import { claimLoopbackBlock } from '../helpers/loopback-block.js';
import { makeOodHome } from '../helpers/ood-home.js';
import { waitUntil } from '../helpers/wait.js';
import { loginAs } from '../helpers/web-client.js';
import type { Row } from './digitalocean.js';

const STREAMS = 100;
const LOGINS = 13;
const ADDRESSES = 7;
const LINES_PER_S = 100;
const WARM_UP_MS = 3_000;
const MEASURE_MS = 10_000;
const TICKS = { fastTick: '200ms', slowTick: '5s', playerProbe: '1s', backoff: '1s', maxBackoff: '1m' };
const CLIENTS = fileURLToPath(new URL('./console-clients.ts', import.meta.url));

interface Report {
  sent: number;
  counts: number[];
  gaps: number;
  failed: string;
}

/** This process's CPU (% of one core) over `ms`, and its RSS at the end (MB). */
async function measure(ms: number): Promise<{ cpu: number; rss: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(c0);
  return { cpu: ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100, rss: process.memoryUsage().rss / 2 ** 20 };
}

/** Runs the load process with `streams`, measures after the warm-up, and returns its report. */
async function underLoad(plan: object): Promise<{ cpu: number; rss: number; report: Report }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLIENTS, JSON.stringify(plan)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (t: string) => (out += t));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitUntil('the load process to open its streams', () => out.includes('open\n'), 60_000, 50);
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    const used = await measure(MEASURE_MS);
    child.stdin.write('report\n');
    const line = await waitUntil('the load report', () => out.split('\n').find((l) => l.startsWith('{')), 30_000, 50);
    return { ...used, report: JSON.parse(line) as Report };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

export async function consoleBench(row: Row): Promise<void> {
  const home = await makeOodHome({ reconcile: TICKS });
  const block = await claimLoopbackBlock();
  const serving = await serveInProcess(home.configPath);
  try {
    const api = apiFor(serving.url);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000, 100);
    const props = parseProperties(readFileSync(join(home.hostDir(), 'server.properties'), 'utf8'));
    const rcon = { host: '127.0.0.1', port: home.rconPort, password: props.get('rcon.password')! };
    const base = { url: serving.url, server: 'world', rcon, linesPerS: LINES_PER_S };

    const idle = await underLoad({ ...base, streams: [], word: 'idle' });

    const cookies: string[] = [];
    for (let i = 0; i < LOGINS; i++) {
      const identity = `github:bench-console-${i}`;
      serving.controller.store.people.put(identity, ['console'], 'bench', Date.now());
      cookies.push((await loginAs(serving, identity)).cookie);
    }
    const streams = Array.from({ length: STREAMS }, (_, i) => ({ cookie: cookies[i % LOGINS]!, from: `${block.ipBase}.${1 + (i % ADDRESSES)}` }));
    const busy = await underLoad({ ...base, streams, word: 'bench' });
    const { sent, counts, gaps, failed } = busy.report;
    const least = Math.min(...counts);
    const everyLine = least >= sent && gaps === 0 && !failed;
    row(
      `${STREAMS} console streams on a game printing ${LINES_PER_S} lines/s (local): controller CPU and RSS`,
      `CPU ${busy.cpu.toFixed(1)} % of a core, RSS ${busy.rss.toFixed(0)} MB`,
      `no console open: CPU ${idle.cpu.toFixed(1)} %, RSS ${idle.rss.toFixed(0)} MB; ${sent} lines said, every stream got ≥ ${least}${gaps ? `, ${gaps} gaps` : ''}${failed ? `, ${failed}` : ''}`,
      'every stream gets every line; CPU ≤ 50 %',
      everyLine && busy.cpu <= 50,
    );
  } finally {
    await serving.close();
    await home.cleanup();
    block.release();
  }
}
