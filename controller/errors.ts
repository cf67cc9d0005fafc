/**
 * One typed error per boundary. `retryable` tells the reconcile loop whether the same step may be
 * tried again after a backoff, or whether a person has to look (the server goes to `failed`).
 */
export abstract class OodError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ConfigError extends OodError {
  readonly retryable = false;
}

export class RconError extends OodError {
  readonly retryable = true;
}

export class StatusPingError extends OodError {
  readonly retryable = true;
}

/** An error whose retryability depends on the case, decided where it is thrown. */
abstract class CaseError extends OodError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Writing, reading or restoring an archive: an I/O error (a full disk, EIO) may be retried; an archive
 * that cannot be restored as it is (a link out of the host) needs a person. Neither says the archive
 * is damaged: only `ArchiveDamagedError` does, and only it ever sets an archive aside.
 */
export class ArchiveError extends CaseError {}

/** The archive's own bytes are bad (checksum, truncation, not a tar.gz): never restore it. */
export class ArchiveDamagedError extends ArchiveError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

/** A host (working directory, game process) in a state OoD will not act on, or a failed host step. */
export class HostError extends CaseError {}

/** An SSH connection or a command run through it. A changed host key is never retryable. */
export class SshError extends CaseError {}

/** A step of a cloud host (droplet) OoD will not take as things are, or one that did not finish. */
export class CloudError extends CaseError {}

export class StoreError extends OodError {
  readonly retryable = false;
}

/** The message of anything thrown, for journals and API answers. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function isRetryable(err: unknown): boolean {
  return err instanceof OodError ? err.retryable : true;
}
