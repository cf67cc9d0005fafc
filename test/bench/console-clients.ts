/**
 * The load side of bench/console.ts, in its own process so its work is not the controller's: opens
 * the console streams (`GET /servers/:id/console/events` with each login's cookie, from the source
 * address given for it), makes the game print `LINES_PER_S` lines a second with RCON `say`, and prints
 * one JSON line when told on stdin: how many of the game's `say` lines each stream received.
 *
 * argv[2]: JSON `{ url, server, streams: [{ cookie, from }], rcon: { host, port, password }, linesPerS, word }`;
 * the game says `<word> line <n>`, so lines of an earlier run in the log's tail are not counted.
 */
import { request } from 'node:http';
import { RconSession } from '../../controller/minecraft/rcon.js';

interface Plan {
  url: string;
  server: string;
  streams: { cookie: string; from: string }[];
  rcon: { host: string; port: number; password: string };
  linesPerS: number;
  word: string;
}

const plan = JSON.parse(process.argv[2]!) as Plan;
const MARK = `[Server] ${plan.word} line `;
const counts = plan.streams.map(() => 0);
let sent = 0;
let gaps = 0;
let failed = '';

function open(i: number): Promise<void> {
  const { cookie, from } = plan.streams[i]!;
  const url = new URL(`/servers/${plan.server}/console/events`, plan.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: from, headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream ${i} from ${from} answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let rest = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        rest += text;
        const events = rest.split('\n\n');
        rest = events.pop()!;
        for (const event of events) {
          if (event.startsWith('event: gap')) gaps++;
          counts[i]! += event.split(MARK).length - 1;
        }
      });
      res.on('error', () => undefined);
      resolve();
    });
    req.on('error', (err) => {
      failed ||= `stream ${i}: ${err.message}`;
      reject(err);
    });
    req.end();
  });
}

await Promise.all(plan.streams.map((_, i) => open(i)));
process.stdout.write('open\n');

const rcon = new RconSession(5_000);
let saying = true;
const every = 1000 / plan.linesPerS;
const start = performance.now();
void (async () => {
  while (saying) {
    await rcon.send(plan.rcon, `say ${plan.word} line ${sent}`);
    sent++;
    const due = start + sent * every - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  }
})().catch((err: Error) => (failed ||= `say: ${err.message}`));

// "report" on stdin: what the streams got of what was said by then; then stop.
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text: string) => {
  if (!text.includes('report')) return;
  saying = false;
  // The last lines said are still on their way: at most a batch (100 ms) and a poll (250 ms) behind.
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify({ sent, counts, gaps, failed, seconds: (performance.now() - start) / 1000 })}\n`);
    void rcon.close().then(() => process.exit(0));
  }, 1_000);
});
