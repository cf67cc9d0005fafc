/**
 * Bench helpers for many servers: a controller's CPU read to the nanosecond, a config of N archived
 * servers, and a bounded keep-alive load loop for one URL. Loopback only.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bundledGameCommand } from '../../controller/game/command.js';
import { TEST_TOKEN } from '../helpers/api.js';

/**
 * CPU time of a process so far, in ms: the sum of its threads' run time from schedstat (ns). The
 * clock ticks of /proc/<pid>/stat are 10 ms, too coarse for a fraction of a percent over 5 s.
 * A thread that ended between two reads takes its time with it; Node's threads live as long as it.
 */
export function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return ns / 1e6;
}

/** Percent of one core `pid` used in each of `windows` consecutive windows of `windowMs`. */
export async function cpuWindows(pid: number, windows: number, windowMs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < windows; i++) {
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    out.push(((cpuMs(pid) - c0) / (performance.now() - t0)) * 100);
  }
  return out;
}

/** Writes an `ood.yaml` with `count` local servers `s000…` that are never started (archived). */
export function writeManyServersConfig(dir: string, count: number, reconcile: Record<string, string>): string {
  const servers = Array.from({ length: count }, (_, i) => ({
    id: `s${String(i).padStart(3, '0')}`,
    // Never bound: these servers stay archived; the ports only need to differ.
    game: { port: 40_000 + 2 * i, rconPort: 40_001 + 2 * i },
    local: { command: bundledGameCommand(), publicHost: '127.0.0.1' },
  }));
  const path = join(dir, 'ood.yaml');
  writeFileSync(path, stringify({ dataDir: './data', listen: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, reconcile, servers }));
  return path;
}

export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/**
 * GETs `url` from `connections` keep-alive connections, each one request at a time, for `durationMs`
 * or `maxRequests` in all, whichever comes first. Latencies in ms.
 */
export async function load(url: string, options: { connections: number; durationMs: number; maxRequests: number }): Promise<LoadResult> {
  const target = new URL(url);
  if (target.hostname !== '127.0.0.1') throw new Error(`the bench only loads loopback, not ${target.hostname}`);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  let errors = 0;
  let started = 0;
  const get = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request(target, { agent, headers: { authorization: `Bearer ${TEST_TOKEN}` } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end();
    });
  const t0 = performance.now();
  const deadline = t0 + options.durationMs;
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (performance.now() < deadline && started < options.maxRequests) {
        started++;
        await get();
      }
    }),
  );
  const elapsed = performance.now() - t0;
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { requests: latencies.length, errors, perSecond: (latencies.length / elapsed) * 1000, p50: at(0.5), p99: at(0.99) };
}

/**
 * The Node options `npm start` gives the controller (package.json's start script), so the benches
 * measure what users run: a 2 MB young generation keeps an idle controller's RSS and GC pauses small.
 */
export function npmStartNodeArgs(): string[] {
  const start = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const match = /^node((?:\s+--\S+)*)\s+bin\/ood\.mjs serve$/.exec(start);
  if (!match) throw new Error(`package.json's start script is not "node [--flags] bin/ood.mjs serve": ${start}`);
  return match[1]!.trim().split(/\s+/).filter(Boolean);
}
