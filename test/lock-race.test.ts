import { build } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';

const TEST_DIR = fileURLToPath(new URL('.', import.meta.url));
const CONTENDERS = 20;
const TRIALS = 10;

// A contender: loads everything, says `ready`, tries the lock on `go` and reports; a winner keeps the
// lock until it is killed, so every contender of a trial tries while the winner holds it.
const CONTENDER = `
import { acquireLock } from '../controller/lock.ts';
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try {
    acquireLock(process.argv[2]);
  } catch (err) {
    process.stdout.write(JSON.stringify({ result: 'refused', name: err.name, message: err.message }) + '\\n');
    process.exit(0);
  }
  process.stdout.write(JSON.stringify({ result: 'acquired' }) + '\\n');
  setInterval(() => {}, 60_000);
});
`;

interface Contender {
  child: ChildProcess;
  lines: Interface;
  exited: Promise<void>;
}

interface Report {
  pid: number;
  result: 'acquired' | 'refused';
  name?: string;
  message?: string;
}

function nextLine(c: Contender, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`contender ${c.child.pid} did not say ${what} within 60 s`)), 60_000);
    c.lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    // On the end of its output, not on 'exit': a contender that prints and exits at once may be
    // reported gone before its last line is read (seen on a loaded 2-core machine).
    c.lines.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`contender ${c.child.pid} ended its output (exit ${c.child.exitCode}) before saying ${what}`));
    });
  });
}

/**
 * The contender with controller/lock.ts bundled in: 200 contenders each starting tsx (and its esbuild
 * service) cost minutes of CPU on a 2-core machine; plain node starts in a fraction of that.
 */
async function bundleContender(dir: string): Promise<string> {
  const outfile = join(dir, 'contender.mjs');
  const sqlite = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  await build({
    stdin: { contents: CONTENDER, resolveDir: TEST_DIR, sourcefile: 'contender.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    logLevel: 'warning',
    // The bundle lives in a temp dir, where the bare name would not resolve; the native addon stays
    // outside the bundle, imported from this checkout.
    plugins: [{ name: 'sqlite-by-path', setup: (b) => b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true })) }],
  });
  return outfile;
}

function startContender(script: string, lock: string): Contender {
  const child = spawn(process.execPath, [script, lock], { stdio: ['pipe', 'pipe', 'inherit'] });
  return { child, lines: createInterface({ input: child.stdout! }), exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

async function kill9(c: Contender): Promise<void> {
  if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await c.exited;
}

/** Starts the contenders, lets them all try at once, and says who won and which refusals were wrong. */
async function race(script: string, lock: string, running: Contender[]): Promise<{ winners: number; badRefusals: string[] }> {
  running.push(...Array.from({ length: CONTENDERS }, () => startContender(script, lock)));
  await Promise.all(running.map(async (c) => expect(await nextLine(c, 'ready')).toBe('ready')));
  const results = running.map((c) => nextLine(c, 'its result'));
  for (const c of running) c.child.stdin!.write('go\n');
  const reports: Report[] = (await Promise.all(results)).map((line, i) => ({ pid: running[i]!.child.pid!, ...(JSON.parse(line) as Omit<Report, 'pid'>) }));
  const winners = reports.filter((r) => r.result === 'acquired');
  const owner = winners.length === 1 ? winners[0]!.pid : undefined;
  const badRefusals = reports.flatMap((r) => {
    if (r.result !== 'refused') return [];
    const named = /Another OoD controller \(pid (\d+)\)/.exec(r.message ?? '');
    const right = r.name === 'ConfigError' && named && Number(named[1]) === owner && r.message!.includes(dirname(lock));
    return right ? [] : [`${r.name}: ${r.message}`];
  });
  return { winners: winners.length, badRefusals };
}

describe('the data directory lock under contention', () => {
  let dir: string | undefined;
  const running: Contender[] = [];
  let home: OodHome | undefined;
  let controllers: ControllerProcess[] = [];

  afterEach(async () => {
    await Promise.all(running.splice(0).map(kill9));
    await Promise.all(controllers.map((c) => c.stop()));
    controllers = [];
    await home?.cleanup();
    home = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it(`lets exactly one of ${CONTENDERS} processes in, ${TRIALS} times, each after the last owner was killed with SIGKILL`, async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-lock-race-'));
    const script = await bundleContender(dir);
    const lock = join(dir, 'controller.lock');

    // The first stale lock: an owner killed while holding it.
    const first = startContender(script, lock);
    running.push(first);
    expect(await nextLine(first, 'ready')).toBe('ready');
    first.child.stdin!.write('go\n');
    expect(JSON.parse(await nextLine(first, 'its result'))).toEqual({ result: 'acquired' });
    await Promise.all(running.splice(0).map(kill9));

    const winnersPerTrial: number[] = [];
    const badRefusals: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const outcome = await race(script, lock, running);
      winnersPerTrial.push(outcome.winners);
      badRefusals.push(...outcome.badRefusals.map((r) => `trial ${trial}: ${r}`));
      // The winners are killed, not released, so the next trial starts from a stale lock again.
      await Promise.all(running.splice(0).map(kill9));
    }
    expect(winnersPerTrial).toEqual(Array(TRIALS).fill(1));
    expect(badRefusals).toEqual([]);
  }, 240_000);

  it(`lets exactly one of ${CONTENDERS} processes in when the stale lock is the pid-text file of an older version`, async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-lock-race-'));
    const script = await bundleContender(dir);
    const lock = join(dir, 'controller.lock');
    const winnersPerTrial: number[] = [];
    const badRefusals: string[] = [];
    for (let trial = 0; trial < 3; trial++) {
      // Contenders that find this file empty it in place; the race is for who locks it meanwhile.
      writeFileSync(lock, '999999');
      const outcome = await race(script, lock, running);
      winnersPerTrial.push(outcome.winners);
      badRefusals.push(...outcome.badRefusals.map((r) => `trial ${trial}: ${r}`));
      await Promise.all(running.splice(0).map(kill9));
    }
    expect(winnersPerTrial).toEqual([1, 1, 1]);
    expect(badRefusals).toEqual([]);
  }, 120_000);

  it('lets exactly one of two `ood serve` started together on one data directory serve', async () => {
    home = await makeOodHome();
    const servingPerRound: number[] = [];
    const badRefusals: string[] = [];
    for (let round = 0; round < 4; round++) {
      const started = await Promise.allSettled([startControllerProcess(home.configPath), startControllerProcess(home.configPath)]);
      controllers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      servingPerRound.push(controllers.length);
      const owner = controllers.length === 1 ? controllers[0]!.pid : undefined;
      for (const s of started) {
        if (s.status === 'fulfilled') continue;
        const text = String(s.reason);
        if (!/exited with [1-9]\d*:/.test(text) || !text.includes(`Another OoD controller (pid ${owner})`) || !text.includes(home.dataDir)) badRefusals.push(`round ${round}: ${text}`);
      }
      // Alternate a kill -9 and a clean stop, so both a stale and a released lock are raced for.
      await Promise.all(controllers.map((c) => (round % 2 === 0 ? c.kill9() : c.stop())));
      controllers = [];
    }
    expect(servingPerRound).toEqual([1, 1, 1, 1]);
    expect(badRefusals).toEqual([]);
  }, 120_000);
});
