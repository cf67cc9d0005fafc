/**
 * 500 clients held in the waiting room: what holding them costs the lobby's process. A LobbyListener
 * whose login() answers a hold that never settles (lobby-held-listener.ts, bundled, with npm start's
 * Node options) and 500 raw 1.21.4 clients in another process (held-clients.mjs: handshake, Login
 * Start, Login Acknowledged, each Keep Alive answered) from 100 loopback addresses. Measured over a
 * 20-s window once all are held, with the default keep-alive every 10 s: the process's CPU
 * (process.cpuUsage) and its RSS against the same process before any client came. Median of 3 runs,
 * each with a fresh listener. Until the lobby holds logins (the waiting room's protocol in
 * connection.ts), the row says "not available" and why. Loopback only; about 90 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Row } from './digitalocean.js';
import { bundled, script, startChild, stopChild } from './children.js';
import { npmStartNodeArgs } from './scale.js';

const CLIENTS = 500;
const SOURCES = 100;
const HOLD_MS = 20_000;
const RUNS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Mark {
  cpuMs: number;
  rssMb: number;
  heapMb: number;
  connections: number;
}
interface Settled {
  held: number;
  failed: Record<string, number>;
  unsettled: number;
  ms: number;
}
interface HoldEnd {
  open: number;
  keepAlives: { min: number; max: number; total: number };
  lost: Record<string, number>;
}
interface Run {
  cpuPct: number;
  rssBeforeMb: number;
  rssHeldMb: number;
  heapBeforeMb: number;
  heapHeldMb: number;
  end: HoldEnd;
  settleMs: number;
}

/** The JSON lines a child prints on stdout, one at a time, in order. */
function jsonLines(child: ChildProcess, what: string): (timeoutMs: number) => Promise<unknown> {
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
      const line = text.slice(0, end);
      text = text.slice(end + 1);
      if (line.startsWith('{')) lines.push(line);
    }
    wake?.();
  });
  child.once('exit', () => wake?.());
  return async (timeoutMs) => {
    const until = Date.now() + timeoutMs;
    while (lines.length === 0) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before printing its next line`);
      if (Date.now() > until) throw new Error(`${what} printed nothing for ${timeoutMs} ms`);
      await Promise.race([new Promise<void>((r) => (wake = r)), sleep(Math.max(0, until - Date.now()))]);
    }
    return JSON.parse(lines.shift()!) as unknown;
  };
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
const reasons = (counts: Record<string, number>) => Object.entries(counts).map(([why, n]) => `${n} ${why}`).join('; ') || 'none';

/** One run: the Run, or why the lobby did not hold the clients. */
async function holdOnce(listenerArgs: string[]): Promise<Run | { unavailable: string }> {
  const lobby = await startChild('the holding lobby', listenerArgs);
  const marks = jsonLines(lobby.child, 'the holding lobby');
  const mark = async () => {
    lobby.child.stdin!.write('mark\n');
    return (await marks(5_000)) as Mark;
  };
  let clients: ChildProcess | undefined;
  try {
    await sleep(1_000); // past start-up's allocations
    const before = await mark();
    clients = spawn(process.execPath, [script('held-clients.mjs'), String(lobby.port), String(CLIENTS), String(HOLD_MS), String(SOURCES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const report = jsonLines(clients, 'the held clients');
    const settled = (await report(90_000)) as Settled;
    if (settled.held < CLIENTS) {
      const why = `${settled.held} of ${CLIENTS} held in ${settled.ms} ms; failed: ${reasons(settled.failed)}${settled.unsettled ? `; ${settled.unsettled} unsettled` : ''}`;
      return { unavailable: why };
    }
    const start = await mark();
    const t0 = performance.now();
    const end = (await report(HOLD_MS + 30_000)) as HoldEnd;
    const held = await mark();
    const elapsed = performance.now() - t0;
    return {
      cpuPct: ((held.cpuMs - start.cpuMs) / elapsed) * 100,
      rssBeforeMb: before.rssMb,
      rssHeldMb: held.rssMb,
      heapBeforeMb: before.heapMb,
      heapHeldMb: held.heapMb,
      end,
      settleMs: settled.ms,
    };
  } finally {
    if (clients && clients.exitCode === null && clients.signalCode === null) {
      const gone = once(clients, 'exit');
      clients.kill('SIGTERM');
      await gone;
    }
    await stopChild(lobby.child);
  }
}

export async function heldClients(row: Row): Promise<void> {
  const metric = `lobby waiting room: ${CLIENTS} held 1.21.4 clients (raw, from ${SOURCES} addresses), ${HOLD_MS / 1_000} s with a keep-alive every 10 s: CPU and RSS growth`;
  const target = '≤ 2 % of a core, ≤ 25 MB';
  const listener = [...npmStartNodeArgs(), await bundled('lobby-held-listener.ts')];
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await holdOnce(listener);
    if ('unavailable' in run) {
      row(metric, 'not available', `the lobby did not hold logins: ${run.unavailable}`, target, false);
      return;
    }
    runs.push(run);
  }
  const cpu = median(runs.map((r) => r.cpuPct));
  const growth = median(runs.map((r) => r.rssHeldMb - r.rssBeforeMb));
  const lost = runs.reduce((n, r) => n + sum(r.end.lost), 0);
  const keepAlives = runs.map((r) => `${r.end.keepAlives.min}–${r.end.keepAlives.max}`).join(', ');
  row(
    metric,
    `${cpu.toFixed(2)} % of a core, RSS +${growth.toFixed(1)} MB (${((growth * 1024) / CLIENTS).toFixed(1)} KB a client)`,
    `runs: ${runs.map((r) => `${r.cpuPct.toFixed(2)} %, RSS ${r.rssBeforeMb.toFixed(1)} → ${r.rssHeldMb.toFixed(1)} MB, heap ${r.heapBeforeMb.toFixed(1)} → ${r.heapHeldMb.toFixed(1)} MB, all held in ${r.settleMs} ms`).join('; ')}; keep-alives a client (min–max) ${keepAlives}; lost while held: ${lost ? runs.map((r) => reasons(r.end.lost)).join(' / ') : 'none'}`,
    target,
    cpu <= 2 && growth <= 25 && lost === 0 && runs.every((r) => r.end.keepAlives.min >= 1),
  );
}
