import { describe, expect, it } from 'vitest';
import type { Controller } from '../controller.js';
import { BudgetError } from '../cost/cost-meter.js';
import { ImageBuildRunningError } from '../image-build-mark.js';
import { silentLogger } from '../log.js';
import type { Person } from '../store/people.js';
import { WorldChoiceRunningError } from '../worlds/world-errors.js';
import { InteractionHandler } from './interactions.js';
import type { Interaction } from './interaction-schema.js';

// The refusals a start meets in `want` become answers only the asker sees, in the error's own words.
// The controller here throws them on demand; the rest of the handler runs on a real controller in
// test/discord-interactions.test.ts.

const person: Person = { identity: 'discord:7', name: 'Ann', avatar: null, permissions: ['start', 'stop'], minecraftName: null, addedAt: 0, addedBy: 'test', lastLogin: null };

function handlerThrowing(err: Error) {
  const controller = {
    config: { servers: [{ id: 'world' }] },
    store: { people: { get: (id: string) => (id === person.identity ? person : undefined), admins: () => [] } },
    has: (id: string) => id === 'world',
    want: () => {
      throw err;
    },
  } as unknown as Controller;
  return new InteractionHandler({ controller, origin: 'https://ood.example.com', track: undefined, clock: () => 0, log: silentLogger });
}

const start = { type: 2, id: '1', application_id: '2', token: 't', member: { user: { id: '7' } }, data: { name: 'ood', options: [{ type: 1, name: 'start' }] } } as Interaction;
const press = { type: 3, id: '1', application_id: '2', token: 't', member: { user: { id: '7' } }, data: { custom_id: 'ood:start:world' }, message: { id: '5' } } as Interaction;

describe('InteractionHandler refusals', () => {
  it('says a budget refusal in its words, and where an admin can start anyway', () => {
    const answer = handlerThrowing(new BudgetError(9.5, 1, 10, 'world')).answer(start);
    expect(answer).toMatchObject({ type: 4, data: { flags: 64 } });
    const content = (answer as { data: { content: string } }).data.content;
    expect(content).toMatch(/^Starting world would go past this month's budget/);
    expect(content).toContain('ood start --override-budget');
  });

  it('says an image build or a world being chosen in their words, for a command and for a press', () => {
    const build = new ImageBuildRunningError({ server: 'world', build: '1700000000', pid: 1, stack: 'ood-image', startedAt: 'now' } as never);
    const choosing = WorldChoiceRunningError.start('world', 'a restore');
    for (const err of [build, choosing]) {
      for (const i of [start, press]) expect(handlerThrowing(err).answer(i)).toEqual({ type: 4, data: { content: err.message, flags: 64, allowed_mentions: { parse: [] } } });
    }
  });

  it('lets any other error through (the endpoint answers 500 and logs it)', () => {
    expect(() => handlerThrowing(new Error('disk on fire')).answer(start)).toThrow('disk on fire');
  });
});
