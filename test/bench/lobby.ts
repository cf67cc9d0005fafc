/**
 * The lobby's speed and memory targets. Wake mode: the controller as `npm start` runs it (the bundle,
 * in its own process), its lobby answering status + ping exchanges under an external load generator
 * (status-load.mjs), against a bare node:net server measured the same way in the same run
 * (status-floor.mjs); its RSS idle and after the load. Proxy mode: a LobbyListener alone in a child
 * (lobby-proxy.ts) forwarding to a sink/echo server in another child (echo-sink.mjs, the game's
 * stand-in), against connecting to that server directly: bulk throughput and round-trip latency.
 * Issue 20's rows: status with hostname routing against the bare server (lobby-routing.ts), 500
 * clients held in the waiting room (lobby-held.ts), join-to-playing with the waiting room against
 * kick-and-rejoin (lobby-join.ts). Loopback only; every phase has a time bound; about 6 minutes in all.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { statusPing } from '../../controller/minecraft/status-ping.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { makeOodHome } from '../helpers/ood-home.js';
import { waitUntil } from '../helpers/wait.js';
import type { Row } from './digitalocean.js';
import { npmStartNodeArgs } from './scale.js';
import { script, startChild, stopChild } from './children.js';
import { CONNECTIONS, LOAD_MS, loadAndCpu } from './status-exchanges.js';
import { routingAgainstBare } from './lobby-routing.js';
import { heldClients } from './lobby-held.js';
import { joinToPlaying } from './lobby-join.js';

/** The same ticks as run.ts's other benches: what a default ood.yaml runs with. */
const TICKS = { fastTick: '200ms', slowTick: '5s', playerProbe: '1s', backoff: '1s', maxBackoff: '1m' };
const BUNDLE = fileURLToPath(new URL('../../dist/ood.mjs', import.meta.url));
const HOST = '127.0.0.1';

const STREAM_BYTES = 256 << 20;
const STREAM_RUNS = 3;
const ROUND_TRIPS = 2_000;
const WARM_UP_ROUND_TRIPS = 200;
const ECHO_BYTES = 64;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function lobbyBench(row: Row): Promise<void> {
  await statusUnderLoad(row);
  await proxyAgainstDirect(row);
  await routingAgainstBare(row);
  await heldClients(row);
  await joinToPlaying(row);
}

/** Wake mode: the controller's lobby under 16 connections of status + ping, and the controller's RSS. */
async function statusUnderLoad(row: Row): Promise<void> {
  const home = await makeOodHome({ reconcile: TICKS, server: { lobby: { mode: 'wake', host: HOST } } });
  const controller = await startControllerProcess(home.configPath, {}, BUNDLE, [], npmStartNodeArgs()).catch(async (err: unknown) => {
    await home.cleanup();
    throw err;
  });
  let lobby: Awaited<ReturnType<typeof loadAndCpu>>;
  let idleRss: number;
  let loadedRss: number;
  try {
    // The lobby's version name (`OoD`) tells its answer from anything else's on that port.
    await waitUntil('the lobby to answer a status ping', async () => (await statusPing(HOST, home.gamePort, 500)).version.name === 'OoD', 20_000, 100);
    await sleep(2_000); // past start-up's allocations and first ticks
    idleRss = rssMb(controller.pid);
    lobby = await loadAndCpu(home.gamePort, controller.pid);
    loadedRss = rssMb(controller.pid);
  } finally {
    await controller.stop();
    await home.cleanup();
  }

  const floor = await startChild('the bare status server', [script('status-floor.mjs')]);
  let bare: Awaited<ReturnType<typeof loadAndCpu>>;
  try {
    bare = await loadAndCpu(floor.port, floor.child.pid!);
  } finally {
    await stopChild(floor.child);
  }

  const failed = Object.values(lobby.failures).reduce((n, k) => n + k, 0);
  const failures = Object.entries(lobby.failures).map(([why, n]) => `${n} ${why}`).join(', ') || 'none';
  row(
    `lobby (wake): status + ping exchanges/s and p99 at ${CONNECTIONS} connections (external load, ${LOAD_MS / 1_000} s)`,
    `${lobby.perSecond.toFixed(0)}/s, p99 ${lobby.p99.toFixed(2)} ms`,
    `p50 ${lobby.p50.toFixed(2)} ms, max ${lobby.max.toFixed(1)} ms; failed: ${failures}; controller CPU ${lobby.cpuPct.toFixed(0)} % of a core, ${lobby.cpuMsPerExchange.toFixed(3)} ms an exchange; ` +
      `bare node:net server ${bare.perSecond.toFixed(0)}/s, p99 ${bare.p99.toFixed(2)} ms, CPU ${bare.cpuMsPerExchange.toFixed(3)} ms an exchange; clients from ${CONNECTIONS} addresses 127.0.0.2–${CONNECTIONS + 1}`,
    '≥ 5000/s, p99 < 5 ms',
    lobby.perSecond >= 5_000 && lobby.p99 < 5 && failed === 0,
  );
  row(
    'controller RSS with the lobby listening: idle → right after the load',
    `${idleRss.toFixed(1)} → ${loadedRss.toFixed(1)} MB`,
    `${lobby.exchanges} exchanges in the measured ${LOAD_MS / 1_000} s`,
    '≤ 85 MB',
    idleRss <= 85 && loadedRss <= 85,
  );
}

/** Proxy mode: the listener's forwarding path against a direct connection to the same server. */
async function proxyAgainstDirect(row: Row): Promise<void> {
  const game = await startChild('the echo/sink server', [script('echo-sink.mjs')]);
  let proxy: { child: ChildProcess; port: number } | undefined;
  try {
    // tsx, since the listener is TypeScript; the loader only costs start-up.
    proxy = await startChild('the proxying lobby listener', ['--import', 'tsx', script('lobby-proxy.ts'), String(game.port)]);

    // Warm-up: JIT, and the kernel's loopback buffers growing to size.
    await stream(game.port, STREAM_BYTES / 4);
    await stream(proxy.port, STREAM_BYTES / 4);
    const direct: number[] = [];
    const proxied: number[] = [];
    for (let i = 0; i < STREAM_RUNS; i++) {
      direct.push(await stream(game.port, STREAM_BYTES));
      proxied.push(await stream(proxy.port, STREAM_BYTES));
    }
    const share = median(proxied) / median(direct);
    const mbs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    row(
      `lobby (proxy): bulk throughput, ${STREAM_BYTES >> 20} MB one way to a sink (median of ${STREAM_RUNS})`,
      `${median(proxied).toFixed(0)} MB/s = ${(share * 100).toFixed(0)} % of direct`,
      `direct ${median(direct).toFixed(0)} MB/s; runs: proxied ${mbs(proxied)}, direct ${mbs(direct)}`,
      '≥ 90 % of direct',
      share >= 0.9,
    );

    const rtts = await roundTrips(game.port, proxy.port);
    const added = median(rtts.proxied) - median(rtts.direct);
    const added99 = quantile(rtts.proxied, 0.99) - quantile(rtts.direct, 0.99);
    const ms = (xs: number[]) => `p50 ${median(xs).toFixed(3)}, p99 ${quantile(xs, 0.99).toFixed(3)} ms`;
    row(
      `lobby (proxy): added latency, ${ROUND_TRIPS} sequential ${ECHO_BYTES}-byte echo round trips (judged on the median)`,
      `p50 +${added.toFixed(3)} ms, p99 +${added99.toFixed(3)} ms`,
      `proxied ${ms(rtts.proxied)}; direct ${ms(rtts.direct)}`,
      '< 1 ms',
      added < 1,
    );
  } finally {
    if (proxy) await stopChild(proxy.child);
    await stopChild(game.child);
  }
}

/** Sends `bytes` to the sink at `port` and waits for its count: MB/s (10^6 bytes) from connected to counted. */
async function stream(port: number, bytes: number): Promise<number> {
  const socket = connect({ host: HOST, port });
  socket.setTimeout(30_000, () => socket.destroy(new Error(`streaming ${bytes} bytes to port ${port} stalled for 30 s`)));
  try {
    await once(socket, 'connect');
    const chunk = Buffer.alloc(64 << 10, 0x5a);
    const send = async () => {
      socket.write('S');
      for (let sent = 0; sent < bytes; sent += chunk.length) {
        if (!socket.write(bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent))) await once(socket, 'drain');
      }
      socket.end();
    };
    const t0 = performance.now();
    // Together, so that a failure of either is the one this rejects with, and neither goes unhandled.
    const [count] = await Promise.all([readLine(socket).then(Number), send()]);
    const seconds = (performance.now() - t0) / 1_000;
    if (count !== bytes) throw new Error(`the sink on port ${port} counted ${count} bytes, not the ${bytes} sent`);
    return bytes / 1e6 / seconds;
  } finally {
    socket.destroy();
  }
}

/** The first line `socket` receives (without the newline); rejects if it closes or fails first. */
function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`port ${socket.remotePort ?? '?'} closed before sending a line`)));
  });
}

/**
 * Round trips of ECHO_BYTES on one connection to the echo server directly and one through the proxy,
 * alternating, so that the machine's noise falls on both alike. Latencies in ms, warm-up left out.
 */
async function roundTrips(directPort: number, proxyPort: number): Promise<{ direct: number[]; proxied: number[] }> {
  const direct = await echoClient(directPort);
  const proxied = await echoClient(proxyPort);
  try {
    const out = { direct: [] as number[], proxied: [] as number[] };
    for (let i = 0; i < WARM_UP_ROUND_TRIPS + ROUND_TRIPS; i++) {
      const d = await direct.roundTrip();
      const p = await proxied.roundTrip();
      if (i < WARM_UP_ROUND_TRIPS) continue;
      out.direct.push(d);
      out.proxied.push(p);
    }
    return out;
  } finally {
    direct.close();
    proxied.close();
  }
}

/** A connection in echo mode; roundTrip() sends ECHO_BYTES and resolves with the ms until all are back. */
async function echoClient(port: number): Promise<{ roundTrip(): Promise<number>; close(): void }> {
  const socket = connect({ host: HOST, port });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  socket.write('E');
  const message = Buffer.alloc(ECHO_BYTES, 0x61);
  let waiting: { left: number; t0: number; resolve: (ms: number) => void; reject: (err: Error) => void } | undefined;
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    waiting?.reject(failure);
    waiting = undefined;
  };
  socket.on('data', (chunk: Buffer) => {
    if (!waiting) return fail(new Error(`port ${port} sent ${chunk.length} bytes nobody asked for`));
    waiting.left -= chunk.length;
    if (waiting.left < 0) return fail(new Error(`port ${port} echoed more than it was sent`));
    if (waiting.left === 0) {
      waiting.resolve(performance.now() - waiting.t0);
      waiting = undefined;
    }
  });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error(`the echo connection to port ${port} closed`)));
  socket.setTimeout(10_000, () => socket.destroy(new Error(`port ${port} echoed nothing for 10 s`)));
  return {
    roundTrip: () =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        waiting = { left: ECHO_BYTES, t0: performance.now(), resolve, reject };
        socket.write(message);
      }),
    close: () => socket.destroy(),
  };
}
