/**
 * Downloading a 200 MB world through the API (`GET /api/servers/:id/worlds/:v/download`), against
 * `tar czf` of the same world folder to /dev/null in the same run, and the controller's RSS growth
 * while it streams. The controller is the bundle `npm start` runs, in a process of its own.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { archiveName, writeArchive } from '../../controller/drivers/local/archive.js';
import { TEST_TOKEN } from '../helpers/api.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { makeOodHome } from '../helpers/ood-home.js';
import type { Row } from './digitalocean.js';
import { npmStartNodeArgs } from './scale.js';

const RUNS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** A host as the local driver archives it, with a 200 MB world: region files incompressible (zlib'd chunks), the rest NBT-like. */
function makeHost(dir: string): string {
  const world = join(dir, 'world');
  mkdirSync(join(world, 'region'), { recursive: true });
  writeFileSync(join(dir, 'server.properties'), 'level-name=world\n');
  writeFileSync(join(world, 'level.dat'), gzipSync(randomBytes(2048)));
  for (let i = 0; i < 25; i++) writeFileSync(join(world, 'region', `r.${i}.0.mca`), randomBytes(4 << 20));
  const block = randomBytes(4096);
  for (let i = 0; i < 25; i++) writeFileSync(join(world, `data-${i}.dat`), Buffer.concat(Array.from({ length: 1024 }, (_, j) => (j % 16 === 0 ? randomBytes(4096) : block))));
  return world;
}

/** Reads the whole download and drops it, as a client writing to /dev/null would; resolves with the byte count. */
function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`download answered ${res.statusCode}`));
      let bytes = 0;
      res.on('data', (chunk: Buffer) => void (bytes += chunk.length));
      res.on('end', () => (res.complete ? resolve(bytes) : reject(new Error('the download was cut off'))));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/**
 * `tar czf` of `dir` with its output read and dropped, in ms. Not `tar czf /dev/null`: GNU tar sees its
 * archive is /dev/null and skips reading the files (measured 0.02 s for 200 MB).
 */
function tarCzf(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('tar', ['czf', '-', '-C', dir, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.resume();
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`tar czf exited with ${code}`))));
  });
}

export async function downloadBench(row: Row, bundle: string): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ood-bench-download-'));
  const home = await makeOodHome();
  try {
    const world = makeHost(join(root, 'host'));
    const name = archiveName(1733480000);
    await writeArchive(join(root, 'host'), join(home.archiveDir(), name));
    const controller = await startControllerProcess(home.configPath, {}, bundle, [], npmStartNodeArgs());
    const ours: number[] = [];
    const tar: number[] = [];
    const growth: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        tar.push(await tarCzf(world));

        const before = rssOf(controller.pid);
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, rssOf(controller.pid))), 20);
        const t1 = performance.now();
        try {
          await download(`${controller.url}/api/servers/world/worlds/${name.replace(/\.tar\.gz$/, '')}/download`);
        } finally {
          clearInterval(sampler);
        }
        ours.push(performance.now() - t1);
        growth.push(peak - before);
      }
    } finally {
      await controller.stop();
    }
    // Throughput ratio: the same world through OoD (unpack the archive, re-pack, gzip, HTTP) over tar czf's.
    const ratio = median(tar) / median(ours);
    row('download 200 MB world (API, streamed .tar.gz)', `${(median(ours) / 1000).toFixed(2)} s = ${ratio.toFixed(2)}× tar's throughput`, `tar czf ${(median(tar) / 1000).toFixed(2)} s; runs ${ours.map((t) => (t / 1000).toFixed(2)).join(', ')} s`, '≥ 0.8× tar', ratio >= 0.8);
    const mb = median(growth) / 1e6;
    row('controller RSS growth during a 200 MB download', `${mb.toFixed(1)} MB`, `runs ${growth.map((g) => (g / 1e6).toFixed(1)).join(', ')} MB`, '≤ 20 MB', mb <= 20);
  } finally {
    await home.cleanup();
    rmSync(root, { recursive: true, force: true });
  }
}
