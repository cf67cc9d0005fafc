import { createServer, type Server, type Socket } from 'node:net';

/**
 * The server side of Minecraft RCON, for OoD's test server (flying-squid has none).
 * Written by hand: the protocol is three packet types, and the npm RCON packages are clients.
 * Framing per MINECRAFT.md: Int32LE length, Int32LE id, Int32LE type, ASCII body, two NULs.
 */
const TYPE_RESPONSE = 0;
const TYPE_COMMAND = 2;
const TYPE_LOGIN = 3;

export type CommandHandler = (command: string) => Promise<string>;

function packet(id: number, type: number, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const buf = Buffer.alloc(14 + payload.length);
  buf.writeInt32LE(10 + payload.length, 0);
  buf.writeInt32LE(id, 4);
  buf.writeInt32LE(type, 8);
  payload.copy(buf, 12);
  return buf;
}

export function startRconServer(options: { host: string; port: number; password: string; handle: CommandHandler }): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let authed = false;
    let pending = Buffer.alloc(0);
    // One command at a time per connection, in order, as vanilla does.
    let queue = Promise.resolve();
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readInt32LE(0);
        if (length < 10 || length > 4096 + 10) {
          socket.destroy();
          return;
        }
        if (pending.length < 4 + length) break;
        const id = pending.readInt32LE(4);
        const type = pending.readInt32LE(8);
        const body = pending.subarray(12, 4 + length - 2).toString('utf8');
        pending = pending.subarray(4 + length);
        queue = queue.then(async () => {
          if (type === TYPE_LOGIN) {
            authed = body === options.password;
            socket.write(packet(authed ? id : -1, TYPE_COMMAND, ''));
          } else if (type === TYPE_COMMAND && authed) {
            let reply: string;
            try {
              reply = await options.handle(body);
            } catch (err) {
              reply = `Error: ${(err as Error).message}`;
            }
            if (!socket.destroyed) socket.write(packet(id, TYPE_RESPONSE, reply));
          } else {
            socket.write(packet(-1, TYPE_RESPONSE, ''));
          }
        });
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}
