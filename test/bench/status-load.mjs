/**
 * A load generator for the lobby's status answer, run with plain node in its own process so that it
 * never shares an event loop (or a tsx loader) with what it measures:
 *
 *   node test/bench/status-load.mjs <port> [connections=16] [warmUpMs=2000] [durationMs=10000] [sources=connections] [names=127.0.0.1]
 *
 * Each of `connections` loops repeats one server-list refresh as a client does it: connect, handshake
 * (next state 1), status request, read the status response, ping (8 bytes), read the pong, then close
 * once the lobby has closed its side. Loop i connects from 127.0.0.(2 + i % sources), so `sources`
 * decides how many players the lobby sees (its per-address cap counts open connections per IP), and
 * names its handshake's server address names[i % names.length] (`names` comma-separated: hostname
 * routing picks a server by it).
 * Prints one JSON line: exchanges finished after the warm-up, per second, latency percentiles (ms,
 * connect to pong) and the failures by reason. Loopback only.
 */
import { connect } from 'node:net';
import { packet, varInt } from './mc-frame.mjs';

const [port, connections = 16, warmUpMs = 2_000, durationMs = 10_000, sources = connections] = process.argv.slice(2, 7).map(Number);
if (!Number.isInteger(port)) throw new Error('usage: status-load.mjs <port> [connections] [warmUpMs] [durationMs] [sources] [names]');
const HOST = '127.0.0.1';
const names = (process.argv[7] ?? HOST).split(',');
/** One exchange may take this long before it counts as failed (the lobby's own deadline is 5 s). */
const EXCHANGE_TIMEOUT_MS = 5_000;

const portField = Buffer.alloc(2);
portField.writeUInt16BE(port);
// Protocol 767 (1.21), next state 1 (status), then the status request: what a client sends at once.
const hello = (name) => {
  const address = Buffer.from(name);
  return Buffer.concat([packet(0x00, varInt(767), varInt(address.length), address, portField, varInt(1)), packet(0x00)]);
};
const HELLOS = names.map(hello);
const PAYLOAD = Buffer.from('0123456789abcdef', 'hex');
const PING = packet(0x01, PAYLOAD);

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
  return { id: buf[start], body: buf.subarray(start + 1, start + length), end: start + length };
}

/** One status + ping exchange from `localAddress`, sending `opening`: `{ ms }` (connect to pong) or `{ failed: reason }`. */
function exchange(localAddress, opening) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = connect({ host: HOST, port, localAddress });
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let stage = 'status';
    let ms;
    let failed;
    const fail = (reason) => {
      failed ??= reason;
      socket.destroy();
    };
    socket.setTimeout(EXCHANGE_TIMEOUT_MS, () => fail('timeout'));
    socket.on('connect', () => socket.write(opening));
    socket.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (let frame = readFrame(buf); frame; frame = readFrame(buf)) {
        buf = buf.subarray(frame.end);
        if (stage === 'status') {
          if (frame.id !== 0x00) return fail(`status answered with packet ${frame.id}`);
          stage = 'ping';
          socket.write(PING);
        } else if (stage === 'ping') {
          if (frame.id !== 0x01 || !frame.body.equals(PAYLOAD)) return fail('wrong pong');
          ms = performance.now() - t0;
          stage = 'done';
          socket.end(); // the lobby has ended its side (or will): close ours
        } else return fail('data after the pong');
      }
    });
    // Failures are counted by reason; the socket's 'close' ends the exchange either way.
    socket.on('error', (err) => (failed ??= err.code ?? err.message));
    socket.on('close', () => resolve(ms !== undefined && failed === undefined ? { ms } : { failed: failed ?? `closed in stage ${stage}` }));
  });
}

const t0 = performance.now();
const measureFrom = t0 + warmUpMs;
const until = measureFrom + durationMs;
const latencies = [];
const failures = {};
await Promise.all(
  Array.from({ length: connections }, async (_, i) => {
    const localAddress = `127.0.0.${2 + (i % sources)}`;
    const opening = HELLOS[i % HELLOS.length];
    while (performance.now() < until) {
      const result = await exchange(localAddress, opening);
      const at = performance.now();
      if (at < measureFrom || at > until) continue;
      if (result.failed) failures[result.failed] = (failures[result.failed] ?? 0) + 1;
      else latencies.push(result.ms);
    }
  }),
);
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
const seconds = durationMs / 1_000;
console.log(JSON.stringify({ exchanges: latencies.length, perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), max: at(1), failures }));
