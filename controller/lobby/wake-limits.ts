/**
 * At most `perMinute` events per key in any minute: the lobby's limit on wake attempts per address and
 * per name. Keys are forgotten a minute after their last event, and at most `maxKeys` are kept, so a
 * flood of addresses cannot grow it without bound.
 */
export class PerMinuteLimit {
  private readonly events = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Records an event for `key` at `now` when allowed; returns whether it was. */
  take(key: string, now: number): boolean {
    const recent = (this.events.get(key) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.perMinute) {
      this.events.set(key, recent);
      return false;
    }
    recent.push(now);
    this.events.delete(key);
    if (this.events.size >= this.maxKeys) this.events.delete(this.events.keys().next().value!);
    this.events.set(key, recent);
    return true;
  }
}
