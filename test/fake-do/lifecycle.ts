/**
 * How actions run: an action is `in-progress` until its machine work resolved and at least `minMs`
 * passed, then `completed` (or `errored` when the work failed). Machine calls for one droplet run one
 * after another, as one VM would take them.
 */
import type { Ctx } from './context.js';
import { nowIso } from './context.js';
import type { Action, Droplet } from './state.js';

export class Lifecycle {
  private readonly queues = new Map<number, Promise<void>>();

  constructor(private readonly ctx: Omit<Ctx, 'life'>) {}

  /** Runs `work` on the droplet's machine once the machine work queued before it has settled. */
  onMachine<T>(dropletId: number, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(dropletId) ?? Promise.resolve();
    const result = before.then(work);
    // The queue only orders the calls; `result`'s own awaiter handles its failure.
    this.queues.set(
      dropletId,
      result.then(
        () => undefined,
        () => undefined,
      ),
    );
    return result;
  }

  startAction(droplet: Droplet, type: string): Action {
    const action: Action = {
      id: this.ctx.state.nextActionId(),
      type,
      status: 'in-progress',
      startedAt: nowIso(),
      completedAt: null,
      resourceId: droplet.id,
      region: droplet.region,
    };
    this.ctx.state.actions.set(action.id, action);
    return action;
  }

  finish(action: Action, status: 'completed' | 'errored', error?: string): void {
    action.status = status;
    action.completedAt = nowIso();
    if (error !== undefined) action.error = error;
  }

  /**
   * Runs the action in the background. `onSuccess`/`onError` change the droplet in the same tick the
   * action ends, so a client that sees `completed` sees the droplet's new status too. An action that
   * something else already ended (a `power_off` ends a pending `shutdown`) is left as it is.
   */
  run(action: Action, work: () => Promise<void>, on: { minMs?: number; onSuccess?: () => void; onError?: () => void } = {}): void {
    this.ctx.tasks.run(`${action.type} action ${action.id}`, async () => {
      let failure: string | undefined;
      await Promise.all([
        work().catch((err: unknown) => {
          failure = (err as Error)?.message ?? String(err);
        }),
        this.ctx.tasks.sleep(on.minMs ?? this.ctx.settings.actionDelayMs),
      ]);
      if (action.status !== 'in-progress') return;
      if (failure === undefined) {
        on.onSuccess?.();
        this.finish(action, 'completed');
      } else {
        on.onError?.();
        this.finish(action, 'errored', failure);
      }
    });
  }
}
