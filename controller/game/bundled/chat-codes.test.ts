import { describe, expect, it } from 'vitest';
import { componentFromCodes, componentToNbt } from './chat-codes.js';

describe('componentFromCodes', () => {
  it.each([
    ['&eAlex joined the game.', { text: 'Alex joined the game.', color: 'yellow' }],
    ['§eAlex', { text: 'Alex', color: 'yellow' }],
    ['plain', { text: 'plain' }],
    ['fish & chips', { text: 'fish & chips' }],
    ['a &&e b', { text: 'a &e b' }],
    ['trailing &', { text: 'trailing &' }],
    ['&x not a code', { text: '&x not a code' }],
    ['&c&lred bold&r plain', { text: '', extra: [{ text: 'red bold', color: 'red', bold: true }, { text: ' plain' }] }],
    // A colour after a style resets the style, as Minecraft's own § codes do.
    ['&lbold&aonly green', { text: '', extra: [{ text: 'bold', bold: true }, { text: 'only green', color: 'green' }] }],
    ['&E upper case', { text: ' upper case', color: 'yellow' }],
  ])('%j', (message, component) => {
    expect(componentFromCodes(message)).toEqual(component);
  });
});

describe('componentToNbt', () => {
  it('writes colours as strings, styles as bytes and parts as a list of compounds', () => {
    expect(componentToNbt(componentFromCodes('&lhi &ethere'))).toEqual({
      type: 'compound',
      name: '',
      value: {
        text: { type: 'string', value: '' },
        extra: {
          type: 'list',
          value: {
            type: 'compound',
            value: [
              { text: { type: 'string', value: 'hi ' }, bold: { type: 'byte', value: 1 } },
              { text: { type: 'string', value: 'there' }, color: { type: 'string', value: 'yellow' } },
            ],
          },
        },
      },
    });
  });
});
