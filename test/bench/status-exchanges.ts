/**
 * Status + ping exchanges under load: status-load.mjs with plain node in its own process, and the CPU
 * the server's process used meanwhile. Shared by the lobby's rows (wake mode, hostname routing) and
 * their bare node:net baseline (status-floor.mjs).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { script } from './children.js';
import { cpuMs } from './scale.js';

export const CONNECTIONS = 16;
export const WARM_UP_MS = 2_000;
export const LOAD_MS = 10_000;

const run = promisify(execFile);

export interface StatusLoad {
  exchanges: number;
  perSecond: number;
  /** ms, connect to pong */
  p50: number;
  p99: number;
  max: number;
  /** Failed exchanges by reason (a refused connection shows as ECONNRESET or `closed in stage status`). */
  failures: Record<string, number>;
}

export interface LoadAndCpu extends StatusLoad {
  /** % of one core the server used over the load (warm-up included). */
  cpuPct: number;
  cpuMsPerExchange: number;
}

/**
 * status-load.mjs against `port`; loop i connects from 127.0.0.(2 + i), so the lobby sees 16 players.
 * `names`: the server addresses the handshakes name, loop i naming names[i % names.length] (default
 * 127.0.0.1, as a player typing the IP would).
 */
export async function statusLoad(port: number, names: string[] = []): Promise<StatusLoad> {
  const args = [script('status-load.mjs'), String(port), String(CONNECTIONS), String(WARM_UP_MS), String(LOAD_MS), String(CONNECTIONS), ...(names.length > 0 ? [names.join(',')] : [])];
  const { stdout } = await run(process.execPath, args, { timeout: WARM_UP_MS + LOAD_MS + 20_000 });
  const load = JSON.parse(stdout) as StatusLoad;
  if (load.exchanges === 0) throw new Error(`No status exchange with port ${port} succeeded in ${LOAD_MS} ms; failures: ${JSON.stringify(load.failures)}`);
  return load;
}

/**
 * statusLoad() on `port`, and the CPU that `pid` (the server) used meanwhile: % of a core, and ms per
 * exchange (the warm-up's exchanges estimated at the measured rate).
 */
export async function loadAndCpu(port: number, pid: number, names: string[] = []): Promise<LoadAndCpu> {
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const load = await statusLoad(port, names);
  const used = cpuMs(pid) - cpu0;
  const elapsed = performance.now() - t0;
  return { ...load, cpuPct: (used / elapsed) * 100, cpuMsPerExchange: used / ((load.perSecond * elapsed) / 1_000) };
}
