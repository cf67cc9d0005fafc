/**
 * The game server's stand-in for the proxy bench, run with plain node in its own process (as the game
 * is): `node test/bench/echo-sink.mjs` prints `listening <port>` on 127.0.0.1. The first byte of a
 * connection picks what it does with the rest:
 *   'S' sink: counts what arrives and, once the client has closed its side, answers `<bytes>\n` and ends.
 *   'E' echo: sends every byte back as it arrives.
 */
import { createServer } from 'node:net';

const server = createServer({ allowHalfOpen: true }, (socket) => {
  socket.setNoDelay(true);
  let mode;
  let received = 0;
  socket.on('data', (chunk) => {
    if (mode === undefined) {
      mode = String.fromCharCode(chunk[0]);
      chunk = chunk.subarray(1);
      if (mode !== 'S' && mode !== 'E') return socket.destroy();
    }
    if (mode === 'S') received += chunk.length;
    else if (chunk.length > 0) socket.write(chunk);
  });
  socket.on('end', () => socket.end(mode === 'S' ? `${received}\n` : undefined));
  // A client that goes away mid-run fails its own measurement; this side only has to let go.
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
