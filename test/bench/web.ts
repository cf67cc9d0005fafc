/**
 * The web app as `npm start` runs it (the bundle, in its own process), logged in through the one-time
 * link `ood serve` prints: the overview page and the server list under autocannon in a separate
 * process, against a bare Koa "hello" measured the same way in the same run; then 500 open live
 * pages (SSE, held by this process over node:http) that must all see a Start press within 100 ms.
 * Loopback only; every phase has a time bound.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { apiFor } from '../helpers/api.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { makeOodHome } from '../helpers/ood-home.js';
import { waitUntil } from '../helpers/wait.js';
import { WebClient } from '../helpers/web-client.js';
import { npmStartNodeArgs } from './scale.js';
import type { Row } from './digitalocean.js';

/** The same ticks as run.ts's other benches: what a default ood.yaml runs with. */
const TICKS = { fastTick: '200ms', slowTick: '5s', playerProbe: '1s', backoff: '1s', maxBackoff: '1m' };
const BUNDLE = fileURLToPath(new URL('../../dist/ood.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
const CONNECTIONS = 64;
const SECONDS = 10;
const WARM_UP_SECONDS = 2;
const LIVE_PAGES = 500;
/** The card shows Stop once `desired` is up: the sign that a page has seen the Start press. */
const STOP_FORM = 'action="/servers/world/stop"';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const run = promisify(execFile);

export async function webBench(row: Row): Promise<void> {
  const home = await makeOodHome({ reconcile: TICKS });
  const controller = await startControllerProcess(home.configPath, {}, BUNDLE, [], npmStartNodeArgs()).catch(async (err: unknown) => {
    await home.cleanup();
    throw err;
  });
  let hello: ChildProcess | undefined;
  try {
    const client = await logIn(controller.url, controller.output);
    const overview = await client.get('/');
    if (overview.status !== 200 || !overview.text.includes('id="server-world"')) throw new Error(`GET / with the session answered ${overview.status}, not the overview`);

    const started = await startHello();
    hello = started.child;
    const baseline = await cannon(started.url, client.cookie);
    const base = `Koa hello ${baseline.perSecond.toFixed(0)} req/s, p99 ${baseline.p99} ms`;
    for (const path of ['/', '/api/servers']) {
      const r = await cannon(controller.url + path, client.cookie);
      row(
        `GET ${path} logged in: req/s and p99 at ${CONNECTIONS} connections (autocannon, ${SECONDS} s)`,
        `${r.perSecond.toFixed(0)} req/s, p99 ${r.p99} ms`,
        `${base}; ${r.failed} non-2xx or errors`,
        '≥ 2000 req/s, p99 < 20 ms',
        r.perSecond >= 2_000 && r.p99 < 20 && r.failed === 0,
      );
    }

    await livePages(row, controller.url, controller.pid, client.cookie);
  } finally {
    if (hello && hello.exitCode === null && hello.signalCode === null) {
      const gone = new Promise((r) => hello!.once('exit', r));
      hello.kill('SIGTERM');
      await gone;
    }
    await controller.stop();
    await home.cleanup();
  }
}

/** The one-time link `ood serve` printed, opened and pressed the way a browser would. */
async function logIn(url: string, output: () => string): Promise<WebClient> {
  const link = await waitUntil('the one-time login link on stdout', () => /log in: (\S+\/login\/once\?token=\S+)/.exec(output())?.[1], 10_000);
  const { pathname, search, searchParams } = new URL(link);
  const client = new WebClient(url);
  const page = await client.get(pathname + search);
  if (page.status !== 200) throw new Error(`the one-time link page answered ${page.status}: ${page.text.slice(0, 200)}`);
  const done = await client.post('/login/once', { token: searchParams.get('token')! });
  if (done.status !== 302 || done.location !== '/') throw new Error(`logging in with the one-time link answered ${done.status} → ${done.location}`);
  return client;
}

/** A bare Koa app answering "hello", in its own process like the controller: the floor for Koa on this machine. */
async function startHello(): Promise<{ child: ChildProcess; url: string }> {
  const script = `import Koa from 'koa';
const app = new Koa();
app.use((ctx) => { ctx.body = 'hello'; });
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));`;
  // Run from the repository so that `koa` resolves from its node_modules.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const port = await waitUntil('the Koa hello app to listen', () => /listening (\d+)/.exec(out)?.[1], 10_000);
    return { child, url: `http://127.0.0.1:${port}/` };
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
}

interface Cannon {
  perSecond: number;
  /** ms, as autocannon rounds it. */
  p99: number;
  failed: number;
}

/** autocannon in its own process (so it does not share an event loop with anything measured): a warm-up, then the run. */
async function cannon(url: string, cookie: string): Promise<Cannon> {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the bench only loads loopback, not ${url}`);
  const once = async (seconds: number) => {
    const args = [AUTOCANNON, '--json', '-c', String(CONNECTIONS), '-d', String(seconds), '-H', `cookie:${cookie}`, url];
    const { stdout } = await run(process.execPath, args, { timeout: (seconds + 30) * 1_000, maxBuffer: 16 << 20 });
    return JSON.parse(stdout) as { duration: number; errors: number; timeouts: number; non2xx: number; latency: { p99: number }; requests: { total: number } };
  };
  await once(WARM_UP_SECONDS);
  const r = await once(SECONDS);
  return { perSecond: r.requests.total / r.duration, p99: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts };
}

interface LivePage {
  /** performance.now() when this page first received a card with the Stop button. */
  stopShownAt: number | undefined;
  error: Error | undefined;
  close(): void;
}

/** One open /events stream, as the overview's EventSource holds it; resolves once the first cards arrived. */
function openLivePage(url: string, cookie: string): Promise<LivePage> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const req = request(`${url}/events`, { agent: false, headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`/events answered ${res.statusCode}`));
      }
      const page: LivePage = {
        stopShownAt: undefined,
        error: undefined,
        close: () => {
          closed = true;
          req.destroy();
        },
      };
      res.on('error', (err) => {
        if (!closed) page.error = err;
      });
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const at = performance.now();
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.startsWith('event: server\n')) continue; // `retry:` and the heartbeat comments
          let card: { id: string; html: string };
          try {
            card = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as typeof card;
          } catch (err) {
            page.error = new Error(`/events sent an event whose data is not JSON: ${block.slice(0, 200)}`, { cause: err });
            continue;
          }
          if (page.stopShownAt === undefined && card.id === 'world' && card.html.includes(STOP_FORM)) page.stopShownAt = at;
          req.setTimeout(0); // connected: from here the stream is quiet between changes
          resolve(page);
        }
      });
    });
    req.setTimeout(10_000, () => {
      if (!closed) req.destroy(new Error('/events sent no cards within 10 s'));
    });
    req.on('error', (err) => {
      if (!closed) reject(err);
    });
    req.end();
  });
}

/**
 * 500 pages open on /events, then a Start press over the API: for each page, the time from the press
 * to the first card showing Stop, as this process reads it (so its own parsing of 500 streams is
 * counted). Then the server is stopped and archived, so no game process is left.
 */
async function livePages(row: Row, url: string, pid: number, cookie: string): Promise<void> {
  const api = apiFor(url);
  const rssBefore = rssMb(pid);
  const pages: LivePage[] = [];
  try {
    const t0 = performance.now();
    // In batches, so that the listen backlog never decides the result.
    for (let i = 0; i < LIVE_PAGES; i += 100) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(100, LIVE_PAGES - i) }, () => openLivePage(url, cookie)));
      for (const opened of batch) if (opened.status === 'fulfilled') pages.push(opened.value);
      const failed = batch.find((opened) => opened.status === 'rejected');
      if (failed) throw new Error(`could not open live page ${pages.length + 1} of ${LIVE_PAGES}`, { cause: failed.reason });
    }
    const connectMs = performance.now() - t0;
    if (pages.some((p) => p.stopShownAt !== undefined)) throw new Error('a live page showed Stop before the Start press');
    await new Promise((r) => setTimeout(r, 1_000)); // the controller settles after 500 connects
    const rss = rssMb(pid);

    const pressed = performance.now();
    const press = await api.start();
    const answeredMs = performance.now() - pressed;
    if (press.status !== 202) throw new Error(`POST /api/servers/world/start answered ${press.status}`);
    await waitUntil(`all ${LIVE_PAGES} live pages to show Stop`, () => pages.every((p) => p.stopShownAt !== undefined || p.error), 5_000, 5);
    const broken = pages.filter((p) => p.error);
    if (broken.length > 0) throw new Error(`${broken.length} live pages failed: ${broken[0]!.error!.message}`);
    const delays = pages.map((p) => p.stopShownAt! - pressed);
    const max = Math.max(...delays);
    row(
      `Start press → card on all ${LIVE_PAGES} open live pages (SSE, held by the bench process)`,
      `max ${max.toFixed(1)} ms, p50 ${median(delays).toFixed(1)} ms`,
      `first page ${Math.min(...delays).toFixed(1)} ms; POST answered in ${answeredMs.toFixed(1)} ms; ${LIVE_PAGES} connected in ${connectMs.toFixed(0)} ms`,
      '≤ 100 ms to all',
      max <= 100,
    );
    row(`controller RSS with ${LIVE_PAGES} live pages open`, `${rss.toFixed(1)} MB`, `${rssBefore.toFixed(1)} MB with none`, 'reported', true);

    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000, 100);
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000, 100);
  } finally {
    for (const page of pages) page.close();
  }
}
