/**
 * A lobby whose every login is held and never let go, alone in its own process, for the held-clients
 * bench:
 *
 *   node --import tsx test/bench/lobby-held-listener.ts
 *
 * (the bench runs it bundled, see children.ts' bundled()). A LobbyListener on 127.0.0.1 (a free port,
 * printed as `listening <port>`) with the default keep-alive interval and caps but for the per-address
 * one, raised since the clients come from a hundred loopback addresses at most. Each line `mark` on
 * stdin is answered with one JSON line: this process's CPU so far (process.cpuUsage, ms), its RSS and
 * heap (MB), and the lobby's open connections. Ends on SIGTERM.
 */
import { createInterface } from 'node:readline';
import { LobbyListener } from '../../controller/minecraft/lobby/lobby-listener.js';
import type { HeldLogin } from '../../controller/minecraft/lobby/types.js';

let held = 0;
let abandoned = 0;
const never: HeldLogin = {
  text: () => 'Starting bench — ready in about 60 s',
  outcome: new Promise(() => {}),
  abandon: () => void abandoned++,
};
const listener = new LobbyListener(
  {
    status: () => ({ motd: 'held-clients bench', versionName: 'OoD', online: 0, max: 0 }),
    login: () => {
      held++;
      return { hold: never };
    },
  },
  { host: '127.0.0.1', port: 0, maxConnectionsPerAddress: 16 },
);
await listener.listen();
console.log(`listening ${listener.address!.port}`);

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'mark') return;
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const mb = (bytes: number) => bytes / (1 << 20);
  console.log(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1_000, rssMb: mb(memory.rss), heapMb: mb(memory.heapUsed), connections: listener.connections, logins: held, abandoned }));
});
process.once('SIGTERM', () => {
  listener.closeAll().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('The held-clients bench listener could not close:', err);
      process.exit(1);
    },
  );
});
