/**
 * Legacy colour codes (`&e`, `§e`) made into chat components. flying-squid writes its own messages
 * with `&` codes (`serv.color.yellow + name + ' joined the game.'`, plugins/login.js and logout.js)
 * and turns them into components only on versions that send JSON chat; from 1.20.3 on it puts the
 * string into an NBT `text` as it is (plugins/chat.js `_createChatComponent`), so players read
 * `&eAlex joined the game.` (issue 18, item 12). Minecraft itself has no `&` codes, so this is where
 * they become what they mean.
 */

export interface ChatComponent {
  text: string;
  color?: string;
  bold?: boolean;
  italic?: boolean;
  underlined?: boolean;
  strikethrough?: boolean;
  obfuscated?: boolean;
  extra?: ChatComponent[];
}

const COLOURS: Record<string, string> = {
  '0': 'black', '1': 'dark_blue', '2': 'dark_green', '3': 'dark_aqua', '4': 'dark_red', '5': 'dark_purple', '6': 'gold', '7': 'gray',
  '8': 'dark_gray', '9': 'blue', a: 'green', b: 'aqua', c: 'red', d: 'light_purple', e: 'yellow', f: 'white',
};
const STYLES: Record<string, keyof Omit<ChatComponent, 'text' | 'color' | 'extra'>> = { k: 'obfuscated', l: 'bold', m: 'strikethrough', n: 'underlined', o: 'italic' };

/**
 * A string with `&` or `§` codes as a component: a code sets the colour or a style of what follows,
 * `r` resets both, a colour resets the styles (as Minecraft's own `§` codes do), and `&&` is a plain
 * `&`. A character after `&` or `§` that is no code is kept as it was written, so ordinary text with
 * an `&` in it ("fish & chips") reads the same.
 */
export function componentFromCodes(message: string): ChatComponent {
  const parts: ChatComponent[] = [];
  let style: Omit<ChatComponent, 'text'> = {};
  let text = '';
  const flush = () => {
    if (text) parts.push({ text, ...style });
    text = '';
  };
  for (let i = 0; i < message.length; i++) {
    const char = message[i]!;
    const code = message[i + 1]?.toLowerCase();
    if ((char !== '&' && char !== '§') || code === undefined) {
      text += char;
      continue;
    }
    if (char === '&' && code === '&') {
      text += '&';
      i++;
    } else if (code in COLOURS) {
      flush();
      style = { color: COLOURS[code] };
      i++;
    } else if (code in STYLES) {
      flush();
      style = { ...style, [STYLES[code]!]: true };
      i++;
    } else if (code === 'r') {
      flush();
      style = {};
      i++;
    } else {
      text += char;
    }
  }
  flush();
  if (parts.length === 1 && !parts[0]!.extra) return parts[0]!;
  return { text: '', extra: parts };
}

/** A plain text with no codes read in it: for strings from outside (RCON `say`, a player's words). */
export function plainComponent(text: string): ChatComponent {
  return { text };
}

/** NBT as prismarine-nbt writes it: `{ type, value }` tags, a compound's value a map of tags. */
export type NbtTag = { type: 'string'; value: string } | { type: 'byte'; value: number } | { type: 'compound'; name: string; value: Record<string, NbtTag> } | { type: 'list'; value: { type: 'compound'; value: Record<string, NbtTag>[] } };

/** A component as the NBT text component that 1.20.3+ sends in chat packets (booleans are bytes). */
export function componentToNbt(component: ChatComponent): NbtTag & { type: 'compound' } {
  return { type: 'compound', name: '', value: nbtFields(component) };
}

function nbtFields(component: ChatComponent): Record<string, NbtTag> {
  const fields: Record<string, NbtTag> = { text: { type: 'string', value: component.text } };
  if (component.color) fields.color = { type: 'string', value: component.color };
  for (const key of Object.values(STYLES)) if (component[key]) fields[key] = { type: 'byte', value: 1 };
  if (component.extra?.length) fields.extra = { type: 'list', value: { type: 'compound', value: component.extra.map(nbtFields) } };
  return fields;
}
