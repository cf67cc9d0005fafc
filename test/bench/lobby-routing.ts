/**
 * Status + ping exchanges through a shared lobby with hostname routing on (lobby-routing-listener.ts:
 * a LobbyListener whose `resolve` maps a few names to servers, each handshake naming one), against the
 * bare node:net server (status-floor.mjs) loaded the same way, in the same run, alternately, so the
 * machine's noise falls on both alike. Loopback only; about 75 s.
 */
import type { Row } from './digitalocean.js';
import { bundled, script, startChild, stopChild } from './children.js';
import { npmStartNodeArgs } from './scale.js';
import { CONNECTIONS, LOAD_MS, loadAndCpu, WARM_UP_MS, type LoadAndCpu } from './status-exchanges.js';

const RUNS = 3;
/** What players type: three servers behind one address, and a case and trailing dot routing must fold. */
const NAMES = ['survival.example.com', 'creative.example.com', 'modded.example.com', 'Survival.Example.com.'];
const SERVERS = ['survival.example.com', 'creative.example.com', 'modded.example.com'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measured(what: string, args: string[]): Promise<LoadAndCpu> {
  const server = await startChild(what, args);
  try {
    return await loadAndCpu(server.port, server.child.pid!, NAMES);
  } finally {
    await stopChild(server.child);
  }
}

export async function routingAgainstBare(row: Row): Promise<void> {
  const lobby: LoadAndCpu[] = [];
  const bare: LoadAndCpu[] = [];
  // Bundled and run with npm start's Node options, as the controller's shared lobby runs.
  const listener = [...npmStartNodeArgs(), await bundled('lobby-routing-listener.ts'), SERVERS.join(',')];
  for (let i = 0; i < RUNS; i++) {
    lobby.push(await measured('the routing lobby', listener));
    bare.push(await measured('the bare status server', [script('status-floor.mjs')]));
  }
  const of = (runs: LoadAndCpu[], key: 'perSecond' | 'cpuMsPerExchange' | 'p99') => median(runs.map((r) => r[key]));
  const rate = of(lobby, 'perSecond') / of(bare, 'perSecond');
  const cpu = of(lobby, 'cpuMsPerExchange') / of(bare, 'cpuMsPerExchange');
  const failed = [...lobby, ...bare].reduce((n, r) => n + Object.values(r.failures).reduce((m, k) => m + k, 0), 0);
  const runs = (rs: LoadAndCpu[]) => rs.map((r) => `${r.perSecond.toFixed(0)}/s ${r.cpuMsPerExchange.toFixed(3)} ms p99 ${r.p99.toFixed(2)}`).join('; ');
  row(
    `lobby (hostname routing, ${SERVERS.length} names): status + ping against bare node:net, ${CONNECTIONS} connections, median of ${RUNS} runs of ${LOAD_MS / 1_000} s (+${WARM_UP_MS / 1_000} s warm-up)`,
    `${rate.toFixed(2)}× rate, ${cpu.toFixed(2)}× CPU an exchange; p99 ${of(lobby, 'p99').toFixed(2)} ms vs ${of(bare, 'p99').toFixed(2)} ms`,
    `lobby ${of(lobby, 'perSecond').toFixed(0)}/s, ${of(lobby, 'cpuMsPerExchange').toFixed(3)} ms CPU an exchange (runs: ${runs(lobby)}); bare ${of(bare, 'perSecond').toFixed(0)}/s, ${of(bare, 'cpuMsPerExchange').toFixed(3)} ms (runs: ${runs(bare)}); ${failed} failed`,
    '≥ 0.9× rate, ≤ 1.2× CPU',
    rate >= 0.9 && cpu <= 1.2 && failed === 0,
  );
}
