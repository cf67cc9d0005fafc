import { connect } from 'node:net';

/**
 * A Minecraft client by hand, written without any of the lobby's code: handshakes with any server
 * address (a Forge "\0FML2\0" suffix, a trailing dot), a status exchange, a login start.
 */

export function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  for (;;) {
    if (v < 0x80) return [...out, v];
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
}
export const str = (s: string) => [...varint(Buffer.byteLength(s)), ...Buffer.from(s)];
export const frame = (id: number, ...data: number[]) => Buffer.from([...varint(varint(id).length + data.length), ...varint(id), ...data]);
export const handshake = (serverAddress: string, next: number, protocol = 769, port = 25565) => frame(0x00, ...varint(protocol), ...str(serverAddress), port >> 8, port & 0xff, ...varint(next));
export const loginStart = (name: string) => frame(0x00, ...str(name), ...Array<number>(16).fill(0));

/**
 * Sends `bytes` (one write, or one per part with a pause between; then a FIN when `end`), collects
 * everything until the server closes.
 */
export function exchange(port: number, bytes: Buffer | Buffer[], { timeoutMs = 5_000, end = false } = {}): Promise<Buffer> {
  const parts = Array.isArray(bytes) ? bytes : [bytes];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port }, () => {
      parts.forEach((part, i) =>
        setTimeout(() => {
          if (!socket.writable) return;
          socket.write(part);
          if (end && i === parts.length - 1) socket.end();
        }, i * 50),
      );
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const b = buf[at + i]!;
    value |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) return [value, at + i + 1];
  }
  throw new Error('bad varint');
}

/** The first packet's id and its leading string (a status JSON, a disconnect reason). */
export function firstStringPacket(data: Buffer): { id: number; text: string } {
  const [, afterLength] = readVarint(data, 0);
  const [id, afterId] = readVarint(data, afterLength);
  const [textLength, afterText] = readVarint(data, afterId);
  return { id, text: data.subarray(afterText, afterText + textLength).toString('utf8') };
}

/** A status exchange with `serverAddress` in the handshake: the status JSON's description as text. */
export async function rawMotd(port: number, serverAddress: string): Promise<string> {
  const data = await exchange(port, Buffer.concat([handshake(serverAddress, 1), frame(0x00), frame(0x01, 0, 0, 0, 0, 0, 0, 0, 7)]));
  const { text } = firstStringPacket(data);
  return JSON.stringify((JSON.parse(text) as { description: unknown }).description);
}

/** A login start as `name` with `serverAddress` in the handshake: the Login Disconnect's reason (JSON text). */
export async function rawLoginRefusal(port: number, serverAddress: string, name: string): Promise<string> {
  const data = await exchange(port, Buffer.concat([handshake(serverAddress, 2), loginStart(name)]));
  const { id, text } = firstStringPacket(data);
  if (id !== 0x00) throw new Error(`expected a Login Disconnect, got packet 0x${id.toString(16)}`);
  return text;
}
