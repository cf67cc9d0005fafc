/**
 * `npm run bench`: OoD's speed and memory targets, measured on this machine, printed as a table.
 * Medians, since these 2-core machines are noisy. Everything runs on loopback.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledGameCommand } from '../../controller/game/command.js';
import { extractArchive, listArchives, writeArchive } from '../../controller/drivers/local/archive.js';
import { statusPing } from '../../controller/minecraft/status-ping.js';
import { updateProperties } from '../../controller/minecraft/properties.js';
import { apiFor, TEST_TOKEN } from '../helpers/api.js';
import { joinBot, leave } from '../helpers/bot.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { serveInProcess } from '../helpers/in-process.js';
import { freePort, makeOodHome } from '../helpers/ood-home.js';
import { waitUntil } from '../helpers/wait.js';
import { cpuWindows, load, writeManyServersConfig, npmStartNodeArgs } from './scale.js';
import { digitalOceanCycle } from './digitalocean.js';
import { webBench } from './web.js';
import { costBench } from './cost.js';
import { lobbyBench } from './lobby.js';
import { downloadBench } from './download.js';
import { copyBench } from './copy.js';
import { discordBench } from './discord.js';
import { consoleBench } from './console.js';

const RUNS = 5;
const DEFAULT_TICKS = { fastTick: '200ms', slowTick: '5s', playerProbe: '1s', backoff: '1s', maxBackoff: '1m' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `npm start` runs the esbuild bundle (built by `npm run bench` first): no tsx loader thread. */
const BUNDLE = fileURLToPath(new URL('../../dist/ood.mjs', import.meta.url));
const pcts = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
const rows: string[][] = [];
const row = (metric: string, value: string, baseline: string, target: string, ok: boolean) => {
  rows.push([metric, value, baseline, target, ok ? 'yes' : 'NO']);
  process.stderr.write(`  ${metric}: ${value}\n`);
};

async function startPath(): Promise<void> {
  const home = await makeOodHome({ reconcile: DEFAULT_TICKS });
  const serving = await serveInProcess(home.configPath);
  const api = apiFor(serving.url);
  const phase = () => serving.controller.store.servers.get('world')!.phase;
  try {
    const cycle = async () => {
      const t0 = performance.now();
      await api.start();
      await waitUntil('running', () => phase() === 'running', 60_000, 2);
      const took = performance.now() - t0;
      await api.stop();
      await waitUntil('archived', () => phase() === 'archived', 60_000, 20);
      return took;
    };
    await cycle(); // makes the first archive, so every measured start restores one
    const viaOod: number[] = [];
    for (let i = 0; i < RUNS; i++) viaOod.push(await cycle());

    const newest = (await listArchives(home.archiveDir()))[0]!;
    const direct: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'ood-bench-direct-'));
      await extractArchive(join(home.archiveDir(), newest.name), dir);
      const port = await freePort();
      writeFileSync(join(dir, 'server.properties'), updateProperties(readFileSync(join(dir, 'server.properties'), 'utf8'), { 'server-port': String(port), 'enable-rcon': 'false' }));
      const [file, ...args] = bundledGameCommand();
      const t0 = performance.now();
      const child = spawn(file!, args, { cwd: dir, stdio: 'ignore' });
      await waitUntil('a status answer', () => statusPing('127.0.0.1', port, 500).then(() => true), 60_000, 2);
      direct.push(performance.now() - t0);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
    const overhead = median(viaOod) - median(direct);
    row('start-path overhead (API start → running, minus direct spawn → status)', `${overhead.toFixed(0)} ms`, `OoD ${median(viaOod).toFixed(0)} ms, direct ${median(direct).toFixed(0)} ms`, '≤ 300 ms', overhead <= 300);
  } finally {
    await serving.close();
    await home.cleanup();
  }
}

async function idleLag(): Promise<void> {
  const emptyAfter = 2_000;
  const home = await makeOodHome({ reconcile: DEFAULT_TICKS, server: { idle: { emptyAfter: '2s', neverJoined: '1h', warnings: ['1s'] } } });
  const serving = await serveInProcess(home.configPath);
  const api = apiFor(serving.url);
  const phase = () => serving.controller.store.servers.get('world')!.phase;
  const lags: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      await api.start();
      await waitUntil('running', () => phase() === 'running', 60_000);
      const bot = await joinBot(home.gamePort, `bench${i}`);
      await waitUntil('the player to be counted', async () => (await api.server()).players.online === 1, 10_000);
      const left = performance.now();
      await leave(bot);
      await waitUntil('stopping', () => phase() === 'stopping', 30_000, 2);
      lags.push(performance.now() - left - emptyAfter);
      await waitUntil('archived', () => phase() === 'archived', 60_000);
    }
    row('idle detection lag (last player left → stopping, minus emptyAfter)', `${median(lags).toFixed(0)} ms`, `runs ${lags.map((l) => l.toFixed(0)).join(', ')}`, '≤ 2000 ms', median(lags) <= 2_000);
  } finally {
    await serving.close();
    await home.cleanup();
  }
}

async function archiveSpeed(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ood-bench-archive-'));
  const src = join(root, 'world');
  mkdirSync(join(src, 'region'), { recursive: true });
  // 200 MB like a world: region files are mostly zlib-compressed chunks (incompressible), the rest
  // is compressible NBT-ish data.
  for (let i = 0; i < 25; i++) writeFileSync(join(src, 'region', `r.${i}.0.mca`), randomBytes(4 << 20));
  const block = randomBytes(4096);
  for (let i = 0; i < 25; i++) writeFileSync(join(src, `data-${i}.dat`), Buffer.concat(Array.from({ length: 1024 }, (_, j) => (j % 16 === 0 ? randomBytes(4096) : block))));
  const time = async (fn: () => unknown) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const ood = { write: [] as number[], read: [] as number[] };
  const gnu = { write: [] as number[], read: [] as number[] };
  try {
    for (let i = 0; i < 3; i++) {
      const out = join(root, `ood-${i}.tar.gz`);
      ood.write.push(await time(() => writeArchive(src, out)));
      ood.read.push(await time(() => extractArchive(out, join(root, `x-ood-${i}`))));
      const tgz = join(root, `tar-${i}.tar.gz`);
      gnu.write.push(await time(() => execFileSync('tar', ['czf', tgz, '-C', src, '.'])));
      mkdirSync(join(root, `x-tar-${i}`));
      gnu.read.push(await time(() => execFileSync('tar', ['xzf', tgz, '-C', join(root, `x-tar-${i}`)])));
      rmSync(join(root, `x-ood-${i}`), { recursive: true });
      rmSync(join(root, `x-tar-${i}`), { recursive: true });
    }
    const w = median(ood.write) / median(gnu.write);
    const r = median(ood.read) / median(gnu.read);
    row('archive 200 MB (write + fsync + full read-back verify)', `${(median(ood.write) / 1000).toFixed(2)} s = ${w.toFixed(2)}× tar`, `tar czf ${(median(gnu.write) / 1000).toFixed(2)} s`, '≤ 1.2× tar', w <= 1.2);
    row('restore 200 MB', `${(median(ood.read) / 1000).toFixed(2)} s = ${r.toFixed(2)}× tar`, `tar xzf ${(median(gnu.read) / 1000).toFixed(2)} s`, '≤ 1.2× tar', r <= 1.2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function idleController(): Promise<void> {
  const home = await makeOodHome({ reconcile: DEFAULT_TICKS });
  // `npm start` runs the esbuild bundle (built by `npm run bench` first): no tsx loader thread.
  const controller = await startControllerProcess(home.configPath, {}, fileURLToPath(new URL('../../dist/ood.mjs', import.meta.url)), [], npmStartNodeArgs());
  try {
    await new Promise((r) => setTimeout(r, 5_000));
    const cpu = () => {
      const fields = readFileSync(`/proc/${controller.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
    };
    const before = cpu();
    const seconds = 20;
    await new Promise((r) => setTimeout(r, seconds * 1_000));
    const cpuPct = (cpu() - before) / seconds; // ticks per second = percent of one core
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${controller.pid}/status`, 'utf8'))![1]) / 1024;
    row('controller idle RSS (one archived server, bundled as npm start runs it)', `${rss.toFixed(1)} MB`, '', '≤ 80 MB', rss <= 80);
    row(`controller idle CPU (over ${seconds} s)`, `${cpuPct.toFixed(2)} % of a core`, '', '≈ 0', cpuPct < 1);
  } finally {
    await controller.stop();
    await home.cleanup();
  }
}

/** 200 archived servers: what the controller costs idle, and how fast it lists them over the API. */
async function manyServers(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ood-bench-many-'));
  const controller = await startControllerProcess(writeManyServersConfig(dir, 200, DEFAULT_TICKS), {}, BUNDLE, [], npmStartNodeArgs());
  try {
    await sleep(5_000); // every runner has ticked at least once
    const idle = await cpuWindows(controller.pid, 4, 5_000);
    row('200 archived servers: idle CPU (% of a core over 20 s)', `${median(idle).toFixed(2)} %`, `5-s windows ${pcts(idle)}`, '≤ 1 %', median(idle) <= 1);

    const url = `${controller.url}/api/servers`;
    await load(url, { connections: 16, durationMs: 1_000, maxRequests: 5_000 }); // warm-up
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await load(url, { connections: 16, durationMs: 5_000, maxRequests: 50_000 }));
    const perSecond = median(runs.map((r) => r.perSecond));
    const p99 = median(runs.map((r) => r.p99));
    const errors = runs.reduce((n, r) => n + r.errors, 0);
    row(
      '/api/servers with 200 servers: req/s and p99 at 16 connections',
      `${perSecond.toFixed(0)} req/s, p99 ${p99.toFixed(1)} ms`,
      `3 runs of 5 s: ${runs.map((r) => `${r.perSecond.toFixed(0)}/s p99 ${r.p99.toFixed(1)}`).join(', ')}; ${errors} errors`,
      '≥ 2000 req/s, p99 < 20 ms',
      perSecond >= 2_000 && p99 < 20 && errors === 0,
    );
  } finally {
    await controller.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What one running server (the test game, nobody online) adds to the controller's CPU. */
async function runningServer(): Promise<void> {
  const home = await makeOodHome({ reconcile: DEFAULT_TICKS });
  const controller = await startControllerProcess(home.configPath, {}, BUNDLE, [], npmStartNodeArgs());
  const api = apiFor(controller.url);
  try {
    await sleep(5_000);
    const archived = await cpuWindows(controller.pid, 4, 5_000);
    await api.start();
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000, 100);
    await sleep(5_000);
    const running = await cpuWindows(controller.pid, 4, 5_000);
    const cost = median(running) - median(archived);
    row(
      'per running server: controller CPU (1 running − 0 running, 20 s each)',
      `${cost.toFixed(2)} % of a core`,
      `running ${pcts(running)}; archived ${pcts(archived)}`,
      '≤ 0.3 %',
      cost <= 0.3,
    );
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000, 100);
  } finally {
    await controller.stop();
    await home.cleanup();
  }
}

/** Wall time of `ood status` as a user runs it (bin/ood.mjs, the bundle already built), against a running controller. */
async function cliStatus(): Promise<void> {
  const home = await makeOodHome({ reconcile: DEFAULT_TICKS });
  const controller = await startControllerProcess(home.configPath, {}, BUNDLE, [], npmStartNodeArgs());
  const bin = fileURLToPath(new URL('../../bin/ood.mjs', import.meta.url));
  try {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      execFileSync(process.execPath, [bin, 'status', '--config', home.configPath], { env: { ...process.env, OOD_ADMIN_TOKEN: TEST_TOKEN }, stdio: 'pipe' });
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    row('CLI `ood status` wall time (median of 10)', `${ms.toFixed(0)} ms`, `runs ${times.map((t) => t.toFixed(0)).join(', ')} ms`, '≤ 500 ms', ms <= 500);
  } finally {
    await controller.stop();
    await home.cleanup();
  }
}

const only = process.argv[2];
const digitalOcean = () => digitalOceanCycle(row, BUNDLE);
const web = () => webBench(row);
const cost = async () => costBench(row);
const lobby = () => lobbyBench(row);
const download = () => downloadBench(row, BUNDLE);
const copy = () => copyBench(row, BUNDLE);
const discord = () => discordBench(row);
const consoleStreams = () => consoleBench(row);
for (const [name, fn] of Object.entries({ startPath, idleLag, archiveSpeed, download, idleController, manyServers, runningServer, cliStatus, web, lobby, cost, digitalOcean, copy, discord, consoleStreams })) {
  if (only && only !== name) continue;
  process.stderr.write(`${name}…\n`);
  await fn();
}
const head = ['metric', 'measured (median)', 'baseline / runs', 'target', 'met'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
process.exit(0);
