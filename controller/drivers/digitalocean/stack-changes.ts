import type { StackHistoryCache } from '../stack-history.js';
import type { ServerStackLike } from './droplet-stop.js';

/** The stack, with each of OoD's own operations on it (up, destroy) making its history read again. */
export function changesHistory(stack: ServerStackLike, history: StackHistoryCache): ServerStackLike {
  const changing = <T>(op: Promise<T>) => op.finally(() => history.invalidate());
  return {
    setConfig: (values) => stack.setConfig(values),
    up: (message) => changing(stack.up(message)),
    destroy: (message) => changing(stack.destroy(message)),
    outputs: () => stack.outputs(),
    history: () => stack.history(),
    dropletId: () => stack.dropletId(),
  };
}
