/**
 * Raw waiting-room clients for the held-clients bench, with plain node in their own process (a
 * minecraft-protocol client each would weigh more than what is measured):
 *
 *   node test/bench/held-clients.mjs <port> [count=500] [holdMs=20000] [sources=100]
 *
 * Client i connects from 127.0.0.(2 + i % sources) as a 1.21.4 client (protocol 769): handshake (next
 * state 2), Login Start; on Login Success it sends Login Acknowledged and stays in the configuration
 * state, answering each Keep Alive and Ping. Packet ids: Minecraft Wiki, Java Edition protocol, 1.21.4
 * (protocol 769), as minecraft-data 1.21.4 lists them. Prints one JSON line once every client is held
 * or has failed (`{"held":n,"failed":{reason:n},"ms":…}`), holds for holdMs, then prints a second
 * (`{"open":n,"keepAlives":{min,max,total},"lost":{reason:n}}`) and exits. Loopback only.
 */
import { connect } from 'node:net';
import { packet, varInt } from './mc-frame.mjs';

const [port, count = 500, holdMs = 20_000, sources = 100] = process.argv.slice(2).map(Number);
if (!Number.isInteger(port)) throw new Error('usage: held-clients.mjs <port> [count] [holdMs] [sources]');
const HOST = '127.0.0.1';
const PROTOCOL = 769;
/** How long every client together may take to be held. */
const SETTLE_MS = 60_000;
/** Connections opening at once: a burst of 500 SYNs would only measure the accept queue. */
const OPENING_AT_ONCE = 50;

const LOGIN = { disconnect: 0x00, encryptionRequest: 0x01, success: 0x02, compression: 0x03, start: 0x00, acknowledged: 0x03 };
const CONFIG = { disconnect: 0x02, keepAlive: 0x04, ping: 0x05, transfer: 0x0b, keepAliveAnswer: 0x04, pong: 0x05 };

/** The frame at the start of `buf`: its packet id, body and where it ends, or undefined if incomplete. */
function readFrame(buf) {
  let length = 0;
  let i = 0;
  for (; i < 5; i++) {
    if (i >= buf.length) return undefined;
    length |= (buf[i] & 0x7f) << (7 * i);
    if ((buf[i] & 0x80) === 0) break;
  }
  const start = i + 1;
  if (buf.length < start + length) return undefined;
  let id = 0;
  let j = start;
  for (let shift = 0; j < start + length; j++, shift += 7) {
    id |= (buf[j] & 0x7f) << shift;
    if ((buf[j] & 0x80) === 0) break;
  }
  return { id, body: buf.subarray(j + 1, start + length), end: start + length };
}

/** A disconnect's reason as printable text: in login a protocol string (VarInt length, JSON), in configuration NBT. */
const reasonOf = (body, string = false) => {
  let start = 0;
  while (string && start < 5 && (body[start] ?? 0) & 0x80) start++;
  return body.subarray(string ? start + 1 : 0).toString('utf8').replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 120);
};

const portField = Buffer.alloc(2);
portField.writeUInt16BE(port);
const address = Buffer.from(HOST);
const handshake = packet(0x00, varInt(PROTOCOL), varInt(address.length), address, portField, varInt(2));

const clients = [];
const failed = {};
const lost = {};
let settled = 0;
let onSettled;
const allSettled = new Promise((resolve) => (onSettled = resolve));
const settle = () => {
  if (++settled === count) onSettled();
};

function client(i) {
  return new Promise((opened) => {
    const name = Buffer.from(`held${i}`);
    const uuid = Buffer.alloc(16);
    uuid.writeUInt32BE(i, 12);
    const socket = connect({ host: HOST, port, localAddress: `127.0.0.${2 + (i % sources)}` });
    socket.setNoDelay(true);
    const c = { socket, state: 'login', keepAlives: 0, outcome: undefined };
    clients.push(c);
    let buf = Buffer.alloc(0);
    /** A client that was held is lost; one that never was has failed (and is settled). */
    const end = (reason) => {
      if (c.state === 'closed') return;
      const wasHeld = c.state === 'configuration';
      c.state = 'closed';
      socket.destroy();
      const tally = wasHeld ? lost : failed;
      tally[reason] = (tally[reason] ?? 0) + 1;
      if (!wasHeld) settle();
    };
    socket.on('connect', () => {
      opened();
      socket.write(Buffer.concat([handshake, packet(LOGIN.start, varInt(name.length), name, uuid)]));
    });
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (let frame = readFrame(buf); frame; frame = readFrame(buf)) {
        buf = buf.subarray(frame.end);
        if (c.state === 'login') {
          if (frame.id === LOGIN.success) {
            c.state = 'configuration';
            socket.write(packet(LOGIN.acknowledged));
            settle();
          } else if (frame.id === LOGIN.disconnect) return end(`kicked at login: ${reasonOf(frame.body, true)}`);
          else if (frame.id === LOGIN.encryptionRequest) return end('asked for encryption (lobby.authenticate is on)');
          else if (frame.id === LOGIN.compression) return end('asked for compression');
          else return end(`login packet 0x${frame.id.toString(16)}`);
        } else if (c.state === 'configuration') {
          if (frame.id === CONFIG.keepAlive) {
            c.keepAlives++;
            socket.write(packet(CONFIG.keepAliveAnswer, frame.body));
          } else if (frame.id === CONFIG.ping) socket.write(packet(CONFIG.pong, frame.body));
          else if (frame.id === CONFIG.disconnect) return end(`disconnected: ${reasonOf(frame.body)}`);
          else if (frame.id === CONFIG.transfer) return end('transferred');
          // Anything else the waiting room shows (a dialog, known packs) needs no answer.
        }
      }
    });
    socket.on('error', (err) => end(err.code ?? err.message));
    socket.on('close', () => {
      opened();
      end(c.state === 'login' ? 'closed during login' : 'closed while held');
    });
  });
}

const t0 = performance.now();
const timer = setTimeout(onSettled, SETTLE_MS);
let opening = [];
for (let i = 0; i < count; i++) {
  opening.push(client(i));
  if (opening.length === OPENING_AT_ONCE) {
    await Promise.all(opening);
    opening = [];
  }
}
await Promise.all(opening);
await allSettled;
clearTimeout(timer);
const held = clients.filter((c) => c.state === 'configuration').length;
console.log(JSON.stringify({ held, failed, unsettled: count - settled, ms: Math.round(performance.now() - t0) }));
if (held > 0) {
  for (const c of clients) c.keepAlives = 0;
  await new Promise((r) => setTimeout(r, holdMs));
}
const open = clients.filter((c) => c.state === 'configuration');
const kept = open.map((c) => c.keepAlives);
console.log(JSON.stringify({ open: open.length, keepAlives: { min: kept.length ? Math.min(...kept) : 0, max: kept.length ? Math.max(...kept) : 0, total: kept.reduce((a, b) => a + b, 0) }, lost }));
for (const c of clients) c.socket.destroy();
process.exit(0);
