import { createServer, type Server } from 'node:net';
import type { HeldLogin, HoldOutcome } from '../../controller/minecraft/lobby/types.js';
import { frame, str, varint } from './raw-minecraft.js';

/** A hold whose outcome the test settles, counting abandon() calls. */
export interface ControlledHold {
  hold: HeldLogin;
  settle(outcome: HoldOutcome): void;
  /** What text() answers from now on. */
  setText(text: string): void;
  readonly abandoned: number;
}

export function controlledHold(text = 'Starting survival — ready in about 40 s'): ControlledHold {
  let settle!: (outcome: HoldOutcome) => void;
  const outcome = new Promise<HoldOutcome>((resolve) => (settle = resolve));
  let abandoned = 0;
  return {
    hold: { text: () => text, outcome, abandon: () => void abandoned++ },
    settle: (o) => settle(o),
    setText: (t) => void (text = t),
    get abandoned() {
      return abandoned;
    },
  };
}

// --- Framing by hand, written independently of the lobby's code ----------------------------------

// The varint, string and frame encoders are raw-minecraft.ts's (one hand-written copy for the tests).
export { frame, str, varint };
export const handshake = (protocol: number, next: number, port: number, host = 'mc.example.org') => frame(0x00, ...varint(protocol), ...str(host), port >> 8, port & 0xff, ...varint(next));

function readVarint(buf: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (at + i >= buf.length) return undefined;
    const b = buf[at + i]!;
    value |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return { value, next: at + i + 1 };
  }
  throw new Error('VarInt over 5 bytes');
}

/** Splits what arrived into packets ({ id, data }), keeping an unfinished tail for the next chunk. */
export function packetReader() {
  let pending = Buffer.alloc(0);
  return (chunk: Buffer): { id: number; data: Buffer }[] => {
    pending = Buffer.concat([pending, chunk]);
    const out: { id: number; data: Buffer }[] = [];
    for (;;) {
      const length = readVarint(pending, 0);
      if (!length || length.next + length.value > pending.length) return out;
      const body = pending.subarray(length.next, length.next + length.value);
      const id = readVarint(body, 0)!;
      out.push({ id: id.value, data: Buffer.from(body.subarray(id.next)) });
      pending = pending.subarray(length.next + length.value);
    }
  };
}

/** What a transferred client said when it came: the handshake (its intent 3) and its name. */
export interface Arrival {
  protocol: number;
  host: string;
  port: number;
  intent: number;
  name: string;
}

/**
 * A stand-in for the game a held client is transferred to: records each handshake and Login Start,
 * answers with a login disconnect ("Welcome") and hangs up.
 */
export async function arrivals(): Promise<{ server: Server; port: number; seen: Arrival[]; close(): Promise<void> }> {
  const seen: Arrival[] = [];
  const server = createServer((socket) => {
    const read = packetReader();
    let arrival: Partial<Arrival> = {};
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      for (const { id, data } of read(chunk)) {
        let at = 0;
        const v = () => {
          const r = readVarint(data, at)!;
          at = r.next;
          return r.value;
        };
        const s = () => {
          const length = v();
          const text = data.subarray(at, at + length).toString('utf8');
          at += length;
          return text;
        };
        if (arrival.intent === undefined && id === 0x00) {
          const protocol = v();
          const host = s();
          const port = data.readUInt16BE(at);
          at += 2;
          arrival = { protocol, host, port, intent: v() };
        } else if (id === 0x00) {
          seen.push({ ...(arrival as Arrival), name: s() });
          socket.end(frame(0x00, ...str(JSON.stringify({ text: 'Welcome' }))));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, port, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
