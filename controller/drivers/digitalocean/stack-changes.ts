import { rm } from 'node:fs/promises';
import { writeFileDurably } from '../../fs/durable.js';
import type { StackHistoryCache } from '../stack-history.js';
import type { ServerStackLike } from './droplet-stop.js';

/** The stack, with each of OoD's own operations on it (up, destroy) making its history read again. */
export function changesHistory(stack: ServerStackLike, history: StackHistoryCache): ServerStackLike {
  const changing = <T>(op: Promise<T>) => op.finally(() => history.invalidate());
  return {
    setConfig: (values) => stack.setConfig(values),
    up: (message) => changing(stack.up(message)),
    destroy: (message) => changing(stack.destroy(message)),
    refresh: (message) => changing(stack.refresh(message)),
    outputs: () => stack.outputs(),
    history: () => stack.history(),
    dropletId: () => stack.dropletId(),
    pendingCreates: () => stack.pendingCreates(),
    settlePendingCreates: (found, message) => changing(stack.settlePendingCreates(found, message)),
  };
}

/**
 * The stack, with a file `marker` that says one of OoD's updates (up, destroy) may have been cut
 * off: written durably before it, removed once it succeeded. Only a cut-off update can leave pending
 * creates in the state (the engine clears its own on any ending it lives to see), so only while the
 * marker exists need they be looked for; a failed update keeps it, which costs one look more.
 */
export function markingUpdates(stack: ServerStackLike, marker: string): ServerStackLike {
  const marked = async <T>(op: string, run: () => Promise<T>): Promise<T> => {
    await writeFileDurably(marker, `${JSON.stringify({ op, at: new Date().toISOString() })}\n`);
    const result = await run();
    await rm(marker, { force: true });
    return result;
  };
  return {
    setConfig: (values) => stack.setConfig(values),
    up: (message) => marked('up', () => stack.up(message)),
    destroy: (message) => marked('destroy', () => stack.destroy(message)),
    // A refresh creates nothing, so one cut off leaves no pending create to look for.
    refresh: (message) => stack.refresh(message),
    outputs: () => stack.outputs(),
    history: () => stack.history(),
    dropletId: () => stack.dropletId(),
    pendingCreates: () => stack.pendingCreates(),
    settlePendingCreates: (found, message) => stack.settlePendingCreates(found, message),
  };
}
