import { describe, expect, it } from 'vitest';
import { parsePlayerList } from './player-list.js';

describe('parsePlayerList', () => {
  it.each([
    ['There are 0 of a max of 20 players online: ', { online: 0, max: 20, names: [] }],
    ['There are 2 of a max of 20 players online: ann, bob', { online: 2, max: 20, names: ['ann', 'bob'] }],
    ['There are 1 of a max 10 players online: ann', { online: 1, max: 10, names: ['ann'] }],
    ['There are 1/20 players online:\nann', { online: 1, max: 20, names: ['ann'] }],
    ['There are 0/20 players online:', { online: 0, max: 20, names: [] }],
    ['§6There are §c1§6 of a max of §c20§6 players online: ann', { online: 1, max: 20, names: ['ann'] }],
  ])('reads %j', (reply, expected) => {
    expect(parsePlayerList(reply)).toEqual(expected);
  });
  it('rejects other text', () => {
    expect(parsePlayerList('Unknown command')).toBeUndefined();
  });
});
