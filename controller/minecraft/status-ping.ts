import { connect } from 'node:net';
import { StatusPingError } from '../errors.js';
import type { Players } from '../reconcile/types.js';
import { proxyV2LocalHeader } from './lobby/proxy-header.js';
import { decodeVarInt, encodePacket, encodeString, encodeVarInt } from './varint.js';

/**
 * Server List Ping (handshake, next state 1, status request), per MINECRAFT.md.
 * Written by hand: it is two packets, and minecraft-protocol's `ping` would bring minecraft-data
 * (hundreds of MB, and a Node 22 engine) into a controller that needs nothing else of it.
 */
export interface ServerStatus {
  version: { name: string; protocol: number };
  players: Players;
  description: unknown;
}

const MAX_RESPONSE = 1 << 20;

export interface StatusPingOptions {
  /**
   * The game expects a PROXY protocol v2 header on every connection (`lobby.proxyProtocol`): OoD's own
   * probe sends the LOCAL form ("no client behind me"), which such games accept as a health check.
   */
  proxyProtocol?: boolean;
}

export function statusPing(host: string, port: number, timeoutMs = 2_000, options: StatusPingOptions = {}): Promise<ServerStatus> {
  return new Promise((resolve, reject) => {
    const where = `${host}:${port}`;
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const done = (err: Error | null, status?: ServerStatus) => {
      socket.destroy();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(status!);
    };
    const timer = setTimeout(() => done(new StatusPingError(`Minecraft at ${where} did not answer a status ping within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      const portBuf = Buffer.alloc(2);
      portBuf.writeUInt16BE(port);
      // Protocol -1: "whatever you speak", which vanilla accepts for status.
      const header = options.proxyProtocol ? [proxyV2LocalHeader()] : [];
      socket.write(Buffer.concat([...header, encodePacket(0x00, encodeVarInt(-1), encodeString(host), portBuf, encodeVarInt(1)), encodePacket(0x00)]));
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_RESPONSE) return done(new StatusPingError(`Minecraft at ${where} sent a status answer over ${MAX_RESPONSE} bytes`));
      try {
        const length = decodeVarInt(received);
        if (!length || received.length < length.size + length.value) return;
        const id = decodeVarInt(received, length.size)!;
        if (id.value !== 0x00) return done(new StatusPingError(`Minecraft at ${where} answered the status request with packet ${id.value}`));
        const strLen = decodeVarInt(received, length.size + id.size)!;
        const start = length.size + id.size + strLen.size;
        const json = JSON.parse(received.subarray(start, start + strLen.value).toString('utf8')) as Partial<ServerStatus> & { players?: { online?: number; max?: number; sample?: { name: string }[] } };
        done(null, {
          version: { name: String(json.version?.name ?? ''), protocol: Number(json.version?.protocol ?? 0) },
          players: { online: Number(json.players?.online ?? 0), max: Number(json.players?.max ?? 0), names: (json.players?.sample ?? []).map((p) => p.name) },
          description: json.description ?? '',
        });
      } catch (err) {
        done(new StatusPingError(`Minecraft at ${where} sent a status answer OoD could not read: ${(err as Error).message}`, { cause: err }));
      }
    });
    socket.on('error', (err) => done(new StatusPingError(`Could not reach Minecraft at ${where}: ${err.message}`, { cause: err })));
    socket.on('close', () => done(new StatusPingError(`Minecraft at ${where} closed the connection before answering`)));
  });
}
