import type { StackUpdate } from './driver.js';

/** Reads a stack's history: on DigitalOcean a worker process and the `pulumi` CLI (seconds, and hundreds of MB). */
export type StackHistoryReader = () => Promise<StackUpdate[]>;

/** How long a page or the API waits for a stack's history before saying it is loading. */
export const STACK_HISTORY_WAIT_MS = 2_000;

/**
 * A stack's history, read at most once per change: kept until OoD's own next operation on the stack
 * (`invalidate()` after each up and destroy), and shared meanwhile by every page and API call, with at
 * most one read in flight. A read that failed is tried again only after `retryMs`, so a broken CLI is
 * not spawned again for every view.
 */
export class StackHistoryCache {
  private generation = 0;
  private kept: { generation: number; updates: StackUpdate[] } | undefined;
  private failed: { generation: number; at: number; error: unknown } | undefined;
  private reading: { generation: number; promise: Promise<StackUpdate[]> } | undefined;

  constructor(
    private readonly read: StackHistoryReader,
    private readonly clock: () => number = Date.now,
    private readonly retryMs = 30_000,
  ) {}

  get(): Promise<StackUpdate[]> {
    if (this.kept?.generation === this.generation) return Promise.resolve(this.kept.updates);
    const failed = this.failed;
    if (failed?.generation === this.generation && this.clock() - failed.at < this.retryMs) return Promise.reject(failed.error);
    if (this.reading) {
      // A read begun before the last operation speaks for the stack as it was: let it end, then read again.
      const reading = this.reading;
      return reading.generation === this.generation ? reading.promise : reading.promise.then(() => this.get(), () => this.get());
    }
    const generation = this.generation;
    const promise = this.read().then(
      (updates) => {
        this.reading = undefined;
        if (generation === this.generation) this.kept = { generation, updates };
        return updates;
      },
      (error: unknown) => {
        this.reading = undefined;
        if (generation === this.generation) this.failed = { generation, at: this.clock(), error };
        throw error;
      },
    );
    this.reading = { generation, promise };
    return promise;
  }

  /** The stack changed (or may have): the next `get` reads it again. */
  invalidate(): void {
    this.generation++;
  }
}

/**
 * `work`'s value if it settles within `ms`, else `{ loading: true }`; the work goes on either way (a
 * history read finishes into its cache for the next view). A rejection within `ms` is thrown.
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<{ value: T } | { loading: true }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ loading: true }>((resolve) => (timer = setTimeout(() => resolve({ loading: true }), ms)));
  try {
    return await Promise.race([work.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
