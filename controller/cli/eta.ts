import type { JournalJson } from './api-client.js';

/**
 * How long a start (archived → running) or a stop (running → archived) took before, from the
 * journal's phase rows: the median of past runs that went straight through, or undefined with no
 * history yet. A run that passed through `failed` says how long a person took, not the machine.
 */
export function typicalDuration(journal: readonly JournalJson[], target: 'running' | 'archived'): number | undefined {
  const from = target === 'running' ? 'archived → provisioning' : 'running → stopping';
  const to = target === 'running' ? '→ running' : '→ archived';
  const runs: number[] = [];
  let began: number | undefined;
  for (const row of journal) {
    if (row.step !== 'phase' || !row.detail) continue;
    if (row.detail.startsWith(from)) began = Date.parse(row.intentAt);
    else if (row.detail.includes('→ failed:')) began = undefined;
    else if (began !== undefined && row.detail.includes(`${to}:`)) {
      runs.push(Date.parse(row.intentAt) - began);
      began = undefined;
    }
  }
  if (runs.length === 0) return undefined;
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)];
}
