import { describe, expect, it } from 'vitest';
import { namesFromSample, parsePlayerList } from './player-list.js';

describe('parsePlayerList', () => {
  it.each([
    ['There are 0 of a max of 20 players online: ', { online: 0, max: 20, names: [] }],
    ['There are 2 of a max of 20 players online: ann, bob', { online: 2, max: 20, names: ['ann', 'bob'] }],
    ['There are 1 of a max 10 players online: ann', { online: 1, max: 10, names: ['ann'] }],
    ['There are 1/20 players online:\nann', { online: 1, max: 20, names: ['ann'] }],
    ['There are 2/20 players online:ann, bob', { online: 2, max: 20, names: ['ann', 'bob'] }],
    ['There are 0/20 players online:', { online: 0, max: 20, names: [] }],
    ['§6There are §c1§6 of a max of §c20§6 players online: ann', { online: 1, max: 20, names: ['ann'] }],
  ])('reads %j', (reply, expected) => {
    expect(parsePlayerList(reply)?.players).toEqual(expected);
  });

  it('rejects other text', () => {
    expect(parsePlayerList('Unknown command')).toBeUndefined();
  });

  // Offline-mode servers (the bundled game among them) take names vanilla would refuse.
  it.each([
    ['There are 1 of a max of 20 players online: Ann,Bob,Cy,Dee', 1, ['Ann,Bob,Cy,Dee']],
    ['There are 1 of a max of 20 players online: Ann, Bob', 1, ['Ann, Bob']],
    ['There are 2 of a max of 20 players online: Ann,Bob, Cy', 2, ['Ann,Bob', 'Cy']],
    // Two players, three parts: "Ann, Bob" and "Cy", or "Ann" and "Bob, Cy"? The count only.
    ['There are 2 of a max of 20 players online: Ann, Bob, Cy', 2, []],
    ['There are 3 of a max of 20 players online: Ann, Bob', 3, []],
  ])('counts %j as the game states it, naming players only when unambiguous', (reply, online, names) => {
    expect(parsePlayerList(reply)?.players).toEqual({ online, max: 20, names });
  });
});

describe('namesFromSample', () => {
  const ambiguous = parsePlayerList('There are 2 of a max of 20 players online: Ann, Bob, Cy')!;

  it('takes a sample that names every player and spells the same list', () => {
    expect(namesFromSample(ambiguous, ['Cy', 'Ann, Bob']).names).toEqual(['Cy', 'Ann, Bob']);
  });

  it.each([
    ['a partial sample', ['Cy']],
    ['a made-up sample', ['Anonymous Player', 'Anonymous Player']],
    ['names that are in the text but do not spell it', ['Ann', 'Cy']],
  ])('keeps the count alone with %s', (_what, sample) => {
    expect(namesFromSample(ambiguous, sample)).toEqual({ online: 2, max: 20, names: [] });
  });

  it('leaves a list that was clear as it was', () => {
    const clear = parsePlayerList('There are 2 of a max of 20 players online: ann, bob')!;
    expect(namesFromSample(clear, ['x', 'y']).names).toEqual(['ann', 'bob']);
  });
});
