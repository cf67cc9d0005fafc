/**
 * The fake's background work (boots, actions): tracked so `close()` can cut every wait short and
 * then await every task, leaving no timer or promise behind a finished test.
 */
export class Tasks {
  /** Failures of the fake itself inside a task (a bug here, not a DigitalOcean outcome). */
  readonly errors: Error[] = [];
  private closed = false;
  private readonly sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly running = new Set<Promise<void>>();

  get isClosed(): boolean {
    return this.closed;
  }

  /** Waits `ms`, or less when the fake closes. */
  sleep(ms: number): Promise<void> {
    if (this.closed || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeps.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleeps.add(entry);
    });
  }

  run(what: string, work: () => Promise<void>): void {
    const task = work().catch((err: unknown) => {
      this.errors.push(new Error(`Fake DigitalOcean task "${what}" failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    });
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sleeps) {
      clearTimeout(s.timer);
      s.wake();
    }
    this.sleeps.clear();
    while (this.running.size > 0) await Promise.all([...this.running]);
  }
}
