/**
 * A restore refused: asked for while the server has a host (or is about to), whose world would be saved
 * as a newer version over the choice; or of a version its driver does not start from (a local server's copy).
 */
export class WorldRestoreRefusedError extends Error {
  override readonly name = 'WorldRestoreRefusedError';
}

/** A version id that is not in the server's list (pruned, set aside, or never made). */
export class UnknownWorldVersionError extends Error {
  override readonly name = 'UnknownWorldVersionError';
}

/**
 * A start refused while a restore or an upload writes the next start's choice: the start's provision
 * reads that record, so one let through in between would boot the world the record did not yet name.
 * It lasts as long as a durable write of a small file. The API answers 409 with this text.
 */
export class WorldChoiceRunningError extends Error {
  override readonly name = 'WorldChoiceRunningError';
  readonly status = 409;
  readonly expose = true;
  static start(server: string, what: string): WorldChoiceRunningError {
    return new WorldChoiceRunningError(`${server} cannot start while a world version is being chosen for it (${what}); press Start again in a moment`);
  }

  /** Two choices at once: the second would overwrite the first as it is made. */
  static another(server: string, what: string): WorldChoiceRunningError {
    return new WorldChoiceRunningError(`a world version is being chosen for ${server} already (${what}); try again when it is done`);
  }
}
