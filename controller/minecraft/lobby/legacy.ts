import { fit, playerCount } from './status-json.js';
import type { LobbyStatus } from './types.js';

/**
 * The server list ping of clients before 1.7 (and of some tools), answered the way vanilla's
 * LegacyQueryHandler does: a lone 0xFE (beta 1.8 – 1.3) gets `motd§online§max`; 0xFE 0x01 (1.4 – 1.5,
 * and 1.6, which adds an 0xFA MC|PingHost message vanilla does not need either) gets
 * `§1\0<127>\0<version>\0<motd>\0<online>\0<max>`. Both go in a 0xFF kick packet; 1.4+ clients read
 * either format, beta clients only the first.
 * https://minecraft.wiki/w/Java_Edition_protocol/Server_List_Ping#1.6
 */
export type LegacyProbe = 'not-legacy' | 'wait' | 'beta' | 'v1';

/** How long a lone 0xFE waits for a following 0x01 before it is answered as a beta ping. */
export const LEGACY_WAIT_MS = 50;

/** Legacy clients read the kick text with a limit of 256 characters (Packet.readString(in, 256)). */
const MAX_LEGACY_CHARS = 256;

/** Modern servers report protocol 127 to a legacy ping: no legacy client matches it, as none can join. */
const LEGACY_PROTOCOL = 127;

/**
 * Classifies the first bytes of a connection. `more` says whether the client may still send
 * (false once it has closed its side or the wait is over): a lone 0xFE then counts as a beta ping.
 * 0xFE followed by anything but 0x01 is a modern frame whose length starts with 0xFE, as in vanilla.
 */
export function probeLegacy(first: Buffer, more: boolean): LegacyProbe {
  if (first.length === 0) return more ? 'wait' : 'not-legacy';
  if (first[0] !== 0xfe) return 'not-legacy';
  if (first.length === 1) return more ? 'wait' : 'beta';
  return first[1] === 0x01 ? 'v1' : 'not-legacy';
}

/** The 0xFF kick packet answering a legacy ping of `kind`. */
export function legacyAnswer(kind: 'beta' | 'v1', status: LobbyStatus): Buffer {
  const online = playerCount(status.online);
  const max = playerCount(status.max);
  let text: string;
  if (kind === 'beta') {
    // Beta clients split on '§', so the motd may not contain one.
    const tail = `§${online}§${max}`;
    text = fit(status.motd.replaceAll('§', ''), MAX_LEGACY_CHARS - tail.length) + tail;
  } else {
    const clean = (s: string) => s.replaceAll('\0', '');
    const head = `§1\0${LEGACY_PROTOCOL}\0`;
    const version = fit(clean(status.versionName), 64);
    const tail = `\0${online}\0${max}`;
    text = head + version + '\0' + fit(clean(status.motd), MAX_LEGACY_CHARS - head.length - version.length - 1 - tail.length) + tail;
  }
  const utf16be = Buffer.from(text, 'utf16le').swap16();
  const packet = Buffer.alloc(3 + utf16be.length);
  packet[0] = 0xff;
  packet.writeUInt16BE(text.length, 1); // in UTF-16 code units, as Java's String.length()
  utf16be.copy(packet, 3);
  return packet;
}
