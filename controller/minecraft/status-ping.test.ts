import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyV2LocalHeader } from './lobby/proxy-header.js';
import { statusPing } from './status-ping.js';
import { encodePacket, encodeString } from './varint.js';

/**
 * A game that, like Paper with `proxy-protocol: true`, drops any connection that does not open with a
 * PROXY protocol v2 header, and answers a status request after one.
 */
function proxyOnlyGame(): Promise<{ server: Server; port: number; headers: Buffer[] }> {
  const headers: Buffer[] = [];
  const server = createServer((socket) => {
    socket.once('data', (chunk) => {
      const header = chunk.subarray(0, 16);
      if (!header.subarray(0, 12).equals(proxyV2LocalHeader().subarray(0, 12))) return socket.destroy();
      headers.push(header);
      const status = JSON.stringify({ version: { name: '1.21.4', protocol: 769 }, players: { online: 2, max: 10 }, description: 'behind a proxy' });
      socket.end(encodePacket(0x00, encodeString(status)));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, headers })));
}

describe('status ping of a game that expects the PROXY protocol', () => {
  let game: Server | undefined;
  afterEach(() => void game?.close());

  it('is refused without the header, and answered with the LOCAL header when proxyProtocol is on', async () => {
    const { server, port, headers } = await proxyOnlyGame();
    game = server;
    await expect(statusPing('127.0.0.1', port, 1_000)).rejects.toThrow(/closed the connection/);
    const status = await statusPing('127.0.0.1', port, 1_000, { proxyProtocol: true });
    expect(status.players.online).toBe(2);
    expect([...headers[0]!]).toEqual([...proxyV2LocalHeader()]);
  });
});
