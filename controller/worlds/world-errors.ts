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
