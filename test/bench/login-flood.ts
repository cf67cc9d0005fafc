/**
 * An anonymous flood of GET /login (autocannon in its own process, 16 connections, 5 s, no cookie) at
 * an in-process controller, while this process reads the API once every 10 ms with the bearer token:
 * session rows written per second of flood, and the API's median latency before and during it.
 * Loopback only. Run: node --import tsx test/bench/login-flood.ts
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { TEST_TOKEN } from '../helpers/api.js';
import { serveInProcess } from '../helpers/in-process.js';
import { makeOodHome } from '../helpers/ood-home.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon');
const CONNECTIONS = 16;
const SECONDS = 5;
const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const home = await makeOodHome();
const serving = await serveInProcess(home.configPath);
try {
  if (new URL(serving.url).hostname !== '127.0.0.1') throw new Error(`the flood only loads loopback, not ${serving.url}`);
  const rows = () => (serving.controller.store.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n;
  const apiOnce = async () => {
    const began = performance.now();
    const res = await fetch(`${serving.url}/api/servers`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    await res.text();
    if (res.status !== 200) throw new Error(`GET /api/servers answered ${res.status}`);
    return performance.now() - began;
  };
  const probe = async (until: () => boolean) => {
    const times: number[] = [];
    for (let i = 0; i < 5_000 && !until(); i++) {
      times.push(await apiOnce());
      await new Promise((r) => setTimeout(r, 10));
    }
    return times;
  };

  const idleEnd = performance.now() + 2_000;
  const idle = await probe(() => performance.now() > idleEnd);
  const before = rows();
  let done = false;
  const flood = run(process.execPath, [AUTOCANNON, '--json', '-c', String(CONNECTIONS), '-d', String(SECONDS), `${serving.url}/login`], { timeout: (SECONDS + 30) * 1_000, maxBuffer: 16 << 20 }).finally(() => (done = true));
  const during = await probe(() => done);
  const r = JSON.parse((await flood).stdout) as { duration: number; requests: { total: number }; statusCodeStats: Record<string, { count: number }> };
  const written = rows() - before;
  console.log(
    JSON.stringify({
      floodRequestsPerSecond: Math.round(r.requests.total / r.duration),
      statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count])),
      sessionRowsWritten: written,
      sessionRowsPerSecond: Math.round(written / r.duration),
      apiMedianMsIdle: Number(median(idle).toFixed(1)),
      apiMedianMsDuringFlood: Number(median(during).toFixed(1)),
      apiSamplesDuringFlood: during.length,
    }),
  );
} finally {
  await serving.close();
  await home.cleanup();
}
