import { describe, expect, it } from 'vitest';
import type { JournalJson } from './api-client.js';
import { typicalDuration } from './eta.js';

let id = 0;
const phase = (at: number, detail: string): JournalJson => ({
  id: ++id, phase: 'x', step: 'phase', intentAt: new Date(at).toISOString(), outcome: 'ok', outcomeAt: null, detail, error: null,
});

describe('typicalDuration', () => {
  it('learns only from stops that went straight through, not from ones that failed on the way', () => {
    const journal = [
      phase(0, 'running → stopping: test wants it down'),
      phase(2_000, 'destroying → archived: destroy done'),
      // A stop that failed and was resumed by a person 25 s later is not how long a stop takes.
      phase(10_000, 'running → stopping: test wants it down'),
      phase(11_000, 'snapshotting → failed: snapshot failed after 8 attempts: ENOSPC'),
      phase(36_000, 'failed → powering_off: test asked for down after the failure'),
      phase(37_000, 'destroying → archived: destroy done'),
    ];
    expect(typicalDuration(journal, 'archived')).toBe(2_000);
  });
});
