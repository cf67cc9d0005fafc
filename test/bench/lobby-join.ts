/**
 * Join-to-playing time on the local driver, the waiting room against kick-and-rejoin, in the same run
 * (one in-process controller, wake mode on the game port, the bundled game), alternately. Each run
 * starts from an archived server; time from the first join's connect to the player's spawn (the
 * game's first Synchronize Player Position).
 * - waiting room: a minecraft-protocol 1.21.4 client joins the lobby, is held, receives Transfer and
 *   reconnects where it says with handshake intent 3 (as vanilla does; minecraft-protocol does not
 *   follow a Transfer by itself).
 * - kick-and-rejoin: a 1.20.4 client (below the waiting room's 1.20.5) joins and is kicked with the
 *   ETA; the player then refreshes the server list every second (a status ping, the first at once),
 *   and joins with a 1.21.4 client the moment the game answers it instead of the lobby.
 * Until the lobby holds joins and the game takes transfers, the waiting room's row says "not
 * available" and why. Loopback only; about 2 minutes.
 */
import mc from 'minecraft-protocol';
import { statusPing } from '../../controller/minecraft/status-ping.js';
import type { Serving } from '../../controller/cli/serve.js';
import { reasonText } from '../helpers/bot.js';
import { serveInProcess } from '../helpers/in-process.js';
import { makeOodHome, type OodHome } from '../helpers/ood-home.js';
import { handshakeAsTransfer } from '../helpers/transfer-client.js';
import { waitUntil } from '../helpers/wait.js';
import type { Row } from './digitalocean.js';

const TICKS = { fastTick: '200ms', slowTick: '5s', playerProbe: '1s', backoff: '1s', maxBackoff: '1m' };
const HOST = '127.0.0.1';
const RUNS = 3;
/** How often the kicked player refreshes the server list. */
const POLL_MS = 1_000;
/** Longest a join may take, start included. */
const JOIN_MS = 90_000;
/** lobby.wakeCooldown: every join comes from 127.0.0.1. */
const COOL_DOWN_MS = 1_000;
const WAITING = 'Waiting_1';
const REJOINING = 'Rejoin_1';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a client's connection came to: where a Transfer sends it, the spawn, or the end and why. */
type Outcome = { transfer: { host: string; port: number } } | { spawned: true } | { ended: string };

/** A minecraft-protocol client's first outcome; the client is ended unless it spawned. */
function connectOnce(port: number, username: string, version: string, options: { host?: string; asTransfer?: boolean } = {}): { client: mc.Client; outcome: Promise<Outcome> } {
  const host = options.host ?? HOST;
  const client = mc.createClient({ host, port, username, version, auth: 'offline', hideErrors: true });
  if (options.asTransfer) handshakeAsTransfer(client);
  const outcome = new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve({ ended: `nothing within ${JOIN_MS / 1_000} s` }), JOIN_MS);
    const done = (o: Outcome) => {
      clearTimeout(timer);
      if (!('spawned' in o)) client.end();
      resolve(o);
    };
    client.on('packet', (data: Record<string, unknown>, meta: { name: string; state: string }) => {
      if (meta.name === 'transfer') done({ transfer: { host: String(data.host), port: Number(data.port) } });
      else if (meta.name === 'position' && meta.state === 'play') done({ spawned: true });
      else if (meta.name === 'disconnect' || meta.name === 'kick_disconnect') done({ ended: `kicked (${meta.state}): ${reasonText(data.reason)}` });
    });
    client.once('end', (why: string) => done({ ended: `connection ended: ${why}` }));
    client.once('error', (err: Error) => done({ ended: `error: ${err.message}` }));
  });
  return { client, outcome };
}

/** A join's time to spawn (ms) and the part before its second connection (the hold, or the kick and the polls). */
interface Joined {
  ms: number;
  beforeSecondMs: number;
}

/** Waiting room: the join's times, or why it did not reach the game. */
async function waitingRoomJoin(port: number): Promise<Joined | { unavailable: string }> {
  const t0 = performance.now();
  const first = connectOnce(port, WAITING, '1.21.4');
  const held = await first.outcome;
  const beforeSecondMs = performance.now() - t0;
  if (!('transfer' in held)) return { unavailable: `the lobby did not hold a 1.21.4 join: ${'ended' in held ? held.ended : 'it spawned at once'}` };
  const second = connectOnce(held.transfer.port, WAITING, '1.21.4', { host: held.transfer.host, asTransfer: true });
  const joined = await second.outcome;
  if (!('spawned' in joined)) return { unavailable: `the transferred join to ${held.transfer.host}:${held.transfer.port} did not spawn: ${'ended' in joined ? joined.ended : 'transferred again'}` };
  const ms = performance.now() - t0;
  second.client.end();
  return { ms, beforeSecondMs };
}

/** Kick-and-rejoin: the join's times. Throws if the game is never joined. */
async function kickAndRejoin(port: number): Promise<Joined> {
  const t0 = performance.now();
  const kicked = await connectOnce(port, REJOINING, '1.20.4').outcome;
  if (!('ended' in kicked) || !/kicked.*Starting world/.test(kicked.ended)) throw new Error(`A 1.20.4 join of a sleeping server was not kicked with the ETA: ${JSON.stringify(kicked)}`);
  // The server list's refresh: the lobby answers as `OoD` until the game has the port.
  await waitUntil('the game to answer a status ping', async () => (await statusPing(HOST, port, POLL_MS)).version.name !== 'OoD', JOIN_MS, POLL_MS);
  const beforeSecondMs = performance.now() - t0;
  const rejoin = connectOnce(port, REJOINING, '1.21.4');
  const joined = await rejoin.outcome;
  if (!('spawned' in joined)) throw new Error(`The rejoin after the game answered did not spawn: ${JSON.stringify(joined)}`);
  const ms = performance.now() - t0;
  rejoin.client.end();
  return { ms, beforeSecondMs };
}

async function toSleep(serving: Serving): Promise<void> {
  serving.controller.want('world', 'down', { actor: 'bench', source: 'bench' });
  await waitUntil('archived', () => serving.controller.store.servers.get('world')!.phase === 'archived', 60_000, 50);
  await waitUntil('the lobby to listen again', () => serving.controller.lobby('world')!.listening, 10_000, 20);
  await sleep(COOL_DOWN_MS + 500); // past the cool-down of a wake nobody joined (a run that failed)
}

export async function joinToPlaying(row: Row): Promise<void> {
  let home: OodHome | undefined;
  let serving: Serving | undefined;
  const waiting: Joined[] = [];
  const rejoin: Joined[] = [];
  let unavailable: string | undefined;
  try {
    // Every join comes from 127.0.0.1: no per-minute limit or cool-down may turn a measured wake away.
    const lobby = { mode: 'wake', host: HOST, wakers: [WAITING, REJOINING], wakesPerMinute: 100, wakeCooldown: `${COOL_DOWN_MS}ms` };
    home = await makeOodHome({ reconcile: TICKS, server: { lobby } });
    serving = await serveInProcess(home.configPath);
    const phase = () => serving!.controller.store.servers.get('world')!.phase;
    await waitUntil('the lobby to listen', () => serving!.controller.lobby('world')!.listening, 10_000, 20);
    // A first session makes the archive, so every measured start restores one.
    serving.controller.want('world', 'up', { actor: 'bench', source: 'bench' });
    await waitUntil('running', () => phase() === 'running', 60_000, 50);
    await toSleep(serving);
    for (let i = 0; i < RUNS; i++) {
      if (!unavailable) {
        const result = await waitingRoomJoin(home.gamePort);
        if ('unavailable' in result) unavailable = result.unavailable;
        else waiting.push(result);
        // A join that was not held may still have woken the server.
        if (serving.controller.store.servers.get('world')!.desired === 'up') await waitUntil('running', () => phase() === 'running', 60_000, 50);
        await toSleep(serving);
      }
      rejoin.push(await kickAndRejoin(home.gamePort));
      await sleep(500);
      await toSleep(serving);
    }
  } finally {
    await serving?.close();
    await home?.cleanup();
  }
  const s = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;
  const runs = (xs: Joined[], second: string) => xs.map((j) => `${s(j.ms)} (${second} ${s(j.beforeSecondMs)})`).join(', ');
  const of = (xs: Joined[]) => median(xs.map((j) => j.ms));
  const metric = 'join-to-playing, local driver, wake mode (first join of a sleeping server → spawn on the game)';
  const baseline = `kick-and-rejoin ${s(of(rejoin))}; runs ${runs(rejoin, 'rejoined at')}: a 1.20.4 join is kicked with the ETA, the player pings every ${POLL_MS / 1_000} s and rejoins (1.21.4) when the game answers`;
  if (unavailable || waiting.length === 0) {
    row(`${metric}: waiting room`, 'not available', `${unavailable ?? 'no run'}; ${baseline}`, '< kick-and-rejoin', false);
    return;
  }
  row(
    `${metric}: waiting room (1.21.4, held, Transfer, intent 3) against kick-and-rejoin, median of ${RUNS}`,
    `${s(of(waiting))}; runs ${runs(waiting, 'transferred at')}`,
    baseline,
    '< kick-and-rejoin',
    of(waiting) < of(rejoin),
  );
}
