import Database from 'better-sqlite3';
import { readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError, messageOf } from './errors.js';
import { processAlive } from './process-alive.js';

/** How long contenders may keep colliding, or an owner take to write its pid, before a refusal. */
const SETTLE_MS = 5_000;

/**
 * One controller per data directory: two would both act on the same servers and could start a
 * second host.
 *
 * The lock is an OS lock, not a file's existence: the lock file is opened as a SQLite database in
 * exclusive locking mode and written once (in that mode, the first write takes the exclusive lock
 * and keeps it), so SQLite holds a POSIX fcntl lock on it until the connection closes. The kernel
 * drops that lock when the process dies (kill -9 included), so a stale file needs no cleanup, and
 * taking the lock is one atomic step, so two contenders can never both win. SQLite also tracks locks
 * per inode inside one process, so a second acquire in the same process is refused too. See
 * https://www.sqlite.org/pragma.html#pragma_locking_mode and https://www.sqlite.org/lockingv3.html.
 *
 * Nothing else in this process may open the lock file: POSIX drops all of a process's fcntl locks on
 * a file when any descriptor of that process to it closes (SQLite guards only its own descriptors).
 *
 * A locked database cannot be read, so the owner also writes its pid to `controller.pid` beside it,
 * for the message another contender shows. That file is information only, never the lock.
 */
export function acquireLock(path: string): () => void {
  const pidPath = join(dirname(path), `${basename(path, '.lock')}.pid`);
  const deadline = Date.now() + SETTLE_MS;
  let emptied = 0;
  for (;;) {
    const outcome = tryLock(path);
    if (outcome === 'busy') {
      // Busy is not yet a refusal: contenders starting together can each hold the shared lock the
      // other needs gone for its exclusive one, and both give up (https://www.sqlite.org/lockingv3.html).
      // Only a live owner, which writes its pid right after it takes the lock, is a refusal.
      const pid = readPid(pidPath);
      if (pid !== undefined && processAlive(pid)) throw heldBy(path, `pid ${pid}`);
      if (Date.now() >= deadline) throw heldBy(path, `pid unknown: ${pidPath} names no running process`);
      sleepSync(5 + Math.random() * 45);
      continue;
    }
    if (outcome === 'not a database') {
      if (++emptied > 3) throw new ConfigError(`${path} is not an OoD lock file and stays so after emptying it; remove it while no controller runs`);
      // The pid-text lock file older OoD versions wrote, or a write cut off by a crash. Empty it in
      // place (an empty file is an empty database). Never unlink it: the lock lives on the inode, and
      // a contender that opened the old inode would lock another file than a later one. Emptying it
      // under a holder is harmless: the holder keeps its lock.
      truncateSync(path, 0);
      continue;
    }
    const db = outcome;
    try {
      writeAtomically(pidPath, `${process.pid}\n`);
    } catch (err) {
      db.close();
      throw new ConfigError(`Could not write ${pidPath} after taking the controller lock: ${messageOf(err)}`, { cause: err });
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      try {
        // Removed while the lock is still held, so the file cannot be a newer owner's yet.
        if (readPid(pidPath) === process.pid) rmSync(pidPath, { force: true });
      } finally {
        db.close();
      }
    };
  }
}

/** One attempt, without waiting: the open connection holding the lock, or why not. */
function tryLock(path: string): Database.Database | 'busy' | 'not a database' {
  const db = new Database(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec(`BEGIN EXCLUSIVE;
      CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL);
      DELETE FROM owner;
      INSERT INTO owner (pid) VALUES (${process.pid});
      COMMIT;`);
    return db;
  } catch (err) {
    db.close();
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return 'busy';
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return 'not a database';
    throw new ConfigError(`Could not take the controller lock ${path}: ${messageOf(err)}`, { cause: err });
  }
}

function heldBy(path: string, who: string): ConfigError {
  return new ConfigError(`Another OoD controller (${who}) uses the data directory ${dirname(path)} (it holds ${path}); stop it first, or give this one another dataDir`);
}

function readPid(pidPath: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}


function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
