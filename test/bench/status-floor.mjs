/**
 * The floor for a status answer in Node on this machine: a bare node:net server in its own process that
 * answers the load generator's exchange (status response, then pong and end) with no parsing beyond
 * framing and no limits. Prints `listening <port>`. Loopback only.
 */
import { createServer } from 'node:net';
import { varInt } from './mc-frame.mjs';

const json = JSON.stringify({ version: { name: 'OoD', protocol: 767 }, players: { max: 0, online: 0, sample: [] }, description: { text: 'world is asleep — join to wake it' } });
const text = Buffer.from(json);
const body = Buffer.concat([Buffer.from([0x00]), varInt(text.length), text]);
const STATUS = Buffer.concat([varInt(body.length), body]);

const server = createServer({ allowHalfOpen: true }, (socket) => {
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let frames = 0;
  socket.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      const length = buf[0]; // every frame of the exchange is under 128 bytes: a one-byte VarInt
      if (length === undefined || buf.length < 1 + length) return;
      const frame = buf.subarray(0, 1 + length);
      buf = buf.subarray(1 + length);
      frames++;
      if (frames === 2) socket.write(STATUS); // handshake, then the status request
      if (frames === 3) socket.end(frame); // the ping, echoed as the pong
    }
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
