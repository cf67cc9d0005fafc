/**
 * What a driver's log follower yields: bytes of the game's log as they were written (the hub cuts them
 * into lines), or a note of OoD's own about the file (`log truncated; reading it again from the start`).
 */
export type LogChunk = { kind: 'data'; bytes: Buffer } | { kind: 'note'; text: string };

export interface FollowOptions {
  /** Lines of the log's end to yield first (the console shows the last 500 on open). */
  tail: number;
  /** Ends the follow: the iterable returns and every file, channel or process it held is released. */
  signal: AbortSignal;
}
