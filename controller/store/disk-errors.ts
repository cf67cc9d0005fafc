import Database from 'better-sqlite3';
import { OodError } from '../errors.js';

/** `full`: no space or quota left. `unwritable`: SQLite could not write for another reason (I/O error, read-only). */
export type DiskFault = 'full' | 'unwritable';

/**
 * OoD's data disk would not take a write. Retryable: once space is freed or the disk is fixed, the same
 * request or step works again; nothing about it is the caller's fault.
 */
export class DiskError extends OodError {
  readonly retryable = true;
  constructor(
    readonly fault: DiskFault,
    /** The code it came with: `SQLITE_FULL`, `SQLITE_IOERR_WRITE`, `ENOSPC`, … */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const FS_FULL: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

// SQLite reports ENOSPC on a write as SQLITE_FULL, but a full disk can also surface as an I/O error
// (a failed fsync or shm grow: SQLITE_IOERR_FSYNC, SQLITE_IOERR_SHMSIZE), so those count too.
// https://www.sqlite.org/rescode.html
function sqliteFault(code: string): DiskFault | undefined {
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY')) return 'unwritable';
  return undefined;
}

/**
 * `err` as a DiskError that says what could not be written where, or undefined when it is any other
 * error. `database` names the SQLite file, used for SQLite's errors, which carry no path.
 */
export function asDiskError(err: unknown, paths: { database: string; dataDir: string }): DiskError | undefined {
  if (err instanceof DiskError) return err;
  if (err instanceof Database.SqliteError) {
    const fault = sqliteFault(err.code);
    if (!fault) return undefined;
    const message =
      fault === 'full'
        ? `the data disk is full: OoD could not write its database ${paths.database}; free space there and try again`
        : `OoD could not write its database ${paths.database} (${err.code}: ${err.message}); the data disk may be full, failing or read-only; check it and try again`;
    return new DiskError(fault, err.code, message, { cause: err });
  }
  const { code, path } = (err ?? {}) as NodeJS.ErrnoException;
  if (typeof code === 'string' && FS_FULL.has(code)) {
    const where = path ?? paths.dataDir;
    const what = code === 'EDQUOT' ? 'the disk quota of the data directory is used up' : 'the data disk is full';
    return new DiskError('full', code, `${what}: OoD could not write ${where} (${code}); free space there and try again`, { cause: err });
  }
  return undefined;
}
