import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { acquireLock } from './lock.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// A holder in another process: takes the lock, says so, and keeps it until it is killed.
const HOLDER = `
import { acquireLock } from ${JSON.stringify(new URL('./lock.ts', import.meta.url).href)};
acquireLock(process.argv[2]);
process.stdout.write('acquired\\n');
setInterval(() => {}, 60_000);
`;

// Another contender on its way to the exclusive lock: it holds the shared lock for a moment.
const SHARED = `
import Database from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href)};
const db = new Database(process.argv[2]);
db.exec('BEGIN');
db.prepare('SELECT count(*) FROM sqlite_master').get();
process.stdout.write('acquired\\n');
setTimeout(() => db.exec('COMMIT'), 500);
setInterval(() => {}, 60_000);
`;

describe('acquireLock', () => {
  let dir: string;
  let lock: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-lock-'));
    lock = join(dir, 'controller.lock');
    writeFileSync(join(dir, 'holder.mjs'), HOLDER);
    writeFileSync(join(dir, 'shared.mjs'), SHARED);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(kill9));
    rmSync(dir, { recursive: true, force: true });
  });

  async function holdInChild(script = 'holder.mjs'): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(dir, script), lock], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the holder exited with ${code} before taking the lock`)));
    });
    expect(line).toBe('acquired');
    return child;
  }

  function refusal(): ConfigError {
    try {
      acquireLock(lock)();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error(`acquireLock(${lock}) succeeded while another holder had the lock`);
  }

  it('is taken, released and taken again', () => {
    const release = acquireLock(lock);
    expect(readFileSync(join(dir, 'controller.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
    acquireLock(lock)();
  });

  it('refuses a second holder in the same process, naming the pid and the data directory', () => {
    const release = acquireLock(lock);
    try {
      expect(refusal().message).toContain(`Another OoD controller (pid ${process.pid}) uses the data directory ${dir}`);
    } finally {
      release();
    }
    acquireLock(lock)();
  });

  it('refuses while another process holds it, and takes over once that process is killed with SIGKILL', async () => {
    const holder = await holdInChild();
    expect(refusal().message).toContain(`(pid ${holder.pid})`);
    await kill9(holder);
    // The lock file and a pid file naming a dead process are left behind; neither needs a person.
    const release = acquireLock(lock);
    expect(readFileSync(join(dir, 'controller.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('release does not break a lock that someone else took since', async () => {
    const release = acquireLock(lock);
    release();
    const holder = await holdInChild();
    release();
    expect(refusal().message).toContain(`(pid ${holder.pid})`);
    expect(readFileSync(join(dir, 'controller.pid'), 'utf8').trim()).toBe(String(holder.pid));
  });

  it('waits out a contender that holds the shared lock only for a moment', async () => {
    acquireLock(lock)();
    await holdInChild('shared.mjs');
    const started = Date.now();
    // Refusing here would let two contenders that collide both give up, and no controller start.
    const release = acquireLock(lock);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    release();
  });

  it('takes over the pid-text lock file older versions left behind', () => {
    writeFileSync(lock, '999999');
    const release = acquireLock(lock);
    expect(refusal().message).toContain(`(pid ${process.pid})`);
    release();
  });
});

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
