/**
 * The Discord interactions endpoint as `npm start` runs it (the bundle, in its own process), against a
 * local stand-in for Discord's API:
 * - p99 and median latency of a signed `/ood status` at 16 connections: a load generator in its own
 *   process (discord-load.mjs, autocannon) signs every request afresh, so none is refused as a replay;
 * - the time from a signed `/ood start` to the first follow-up edit (PATCH of the answer) at the stand-in,
 *   and to the edit that shows the server up, over a few start and stop cycles of the bundled game.
 * Loopback only; every phase has a time bound.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FIRST_EDIT_AFTER_MS } from '../../controller/discord/followups.js';
import { cardState } from '../../controller/web/pages/server-card.js';
import { apiFor } from '../helpers/api.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { commandBody, discordKeys, signedPost, startDiscordReceiver, type DiscordReceiver } from '../helpers/discord.js';
import { makeOodHome } from '../helpers/ood-home.js';
import { waitUntil } from '../helpers/wait.js';
import type { Row } from './digitalocean.js';
import { npmStartNodeArgs } from './scale.js';

const TICKS = { fastTick: '200ms', slowTick: '5s', playerProbe: '1s', backoff: '1s', maxBackoff: '1m' };
const BUNDLE = fileURLToPath(new URL('../../dist/ood.mjs', import.meta.url));
const LOAD = fileURLToPath(new URL('./discord-load.mjs', import.meta.url));
const APP = '1234567890123456789';
const CONNECTIONS = 16;
const WARM_UP_SECONDS = 2;
const SECONDS = 10;
/**
 * The endpoint allows 20 commands a minute per person, as the web's buttons do; the load spreads over
 * this many listed people (admins in the config) so that it measures answers, not the limit: at
 * 4,000 people it would take more than 80,000 requests in a minute to reach it.
 */
const LOAD_PEOPLE = 4_000;
const FIRST_LOAD_USER = 900_000_000_000_000_000n;
const STARTER = '800000000000000001';
const START_RUNS = 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const run = promisify(execFile);

export async function discordBench(row: Row): Promise<void> {
  const keys = discordKeys();
  const receiver = await startDiscordReceiver();
  const admins = [`discord:${STARTER}`, ...Array.from({ length: LOAD_PEOPLE }, (_, i) => `discord:${FIRST_LOAD_USER + BigInt(i)}`)];
  const home = await makeOodHome({ reconcile: TICKS, config: { discord: { applicationId: APP, publicKey: keys.publicKeyHex }, web: { admins } } });
  try {
    const controller = await startControllerProcess(home.configPath, { OOD_DISCORD_API_URL: receiver.apiUrl }, BUNDLE, [], npmStartNodeArgs());
    try {
      const endpoint = `${controller.url}/discord/interactions`;
      await statusLoad(row, endpoint, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
      await startToEdit(row, endpoint, controller.url, keys, receiver);
    } finally {
      await controller.stop();
    }
  } finally {
    await receiver.close();
    await home.cleanup();
  }
}

interface LoadResult {
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
  detail: string;
}

/** One run of discord-load.mjs (warm-up, then the measured seconds), in its own process. */
async function load(endpoint: string, privatePem: string, kind: 'status' | 'ping'): Promise<LoadResult> {
  const args = [LOAD, endpoint, APP, String(FIRST_LOAD_USER), String(LOAD_PEOPLE), String(CONNECTIONS), String(WARM_UP_SECONDS), String(SECONDS), kind];
  const { stdout } = await run(process.execPath, args, { env: { ...process.env, OOD_BENCH_DISCORD_KEY: privatePem }, timeout: (WARM_UP_SECONDS + SECONDS + 60) * 1_000, maxBuffer: 16 << 20 });
  const r = JSON.parse(stdout) as { duration: number; errors: number; timeouts: number; non2xx: number; notCards: number; signedDuringRun: number; latency: { p50: number; p99: number }; requests: { total: number } };
  const failed = r.errors + r.timeouts + r.non2xx + r.notCards;
  return { perSecond: r.requests.total / r.duration, p50: r.latency.p50, p99: r.latency.p99, failed, detail: `${r.non2xx} non-2xx, ${r.notCards} not the expected answer, ${r.errors + r.timeouts} errors; ${r.signedDuringRun} signed during the run, the rest before it` };
}

async function statusLoad(row: Row, endpoint: string, privatePem: string): Promise<void> {
  // A signed PING first: the floor of reading, verifying and answering, without a command behind it.
  const ping = await load(endpoint, privatePem, 'ping');
  const status = await load(endpoint, privatePem, 'status');
  row(
    `Discord: signed /ood status at ${CONNECTIONS} connections (autocannon, ${SECONDS} s, every request signed afresh)`,
    `p99 ${status.p99} ms, p50 ${status.p50} ms`,
    `${status.perSecond.toFixed(0)} req/s over ${LOAD_PEOPLE} listed people, ${status.failed} failed (${status.detail}); signed PING: p99 ${ping.p99} ms, p50 ${ping.p50} ms, ${ping.perSecond.toFixed(0)} req/s, ${ping.failed} failed (${ping.detail})`,
    'p99 ≤ 20 ms',
    status.p99 <= 20 && status.failed === 0 && ping.failed === 0,
  );
}

async function startToEdit(row: Row, endpoint: string, url: string, keys: ReturnType<typeof discordKeys>, receiver: DiscordReceiver): Promise<void> {
  const api = apiFor(url);
  const upTitle = `world: ${cardState({ desired: 'up', phase: 'running', alert: null }).label}`;
  const answered: number[] = [];
  const firstEdit: number[] = [];
  const upEdit: number[] = [];
  for (let i = 0; i < START_RUNS; i++) {
    const token = `bench-start-${i}-${Date.now()}`;
    const isOurs = (r: { method: string; path: string }) => r.method === 'PATCH' && r.path === `/webhooks/${APP}/${token}/messages/@original`;
    const t0 = Date.now();
    const answer = await signedPost(endpoint, commandBody({ applicationId: APP, token }, { userId: STARTER }, 'start', 'world'), keys);
    answered.push(Date.now() - t0);
    const data = (answer.json as { type?: number; data?: { flags?: number } } | undefined);
    if (answer.status !== 200 || data?.type !== 4 || ((data.data?.flags ?? 0) & 64) !== 0) throw new Error(`/ood start answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    const [first] = await receiver.waitFor('the first follow-up edit', isOurs, 1, 60_000);
    firstEdit.push(first!.at - t0);
    const up = await receiver.waitFor('the edit that shows the server up', (r) => isOurs(r) && JSON.stringify(r.body).includes(JSON.stringify(upTitle)), 1, 60_000);
    upEdit.push(up[0]!.at - t0);
    await waitUntil('running', async () => (await api.server()).phase === 'running', 60_000, 100);
    await api.stop();
    await waitUntil('archived', async () => (await api.server()).phase === 'archived', 60_000, 100);
  }
  row(
    'Discord: signed /ood start → its first follow-up edit (PATCH) at the stand-in for Discord',
    `${median(firstEdit)} ms`,
    `runs ${firstEdit.join(', ')} ms (the first edit waits ${FIRST_EDIT_AFTER_MS} ms so Discord has made the message); the answer came in ${answered.join(', ')} ms`,
    'reported',
    true,
  );
  row(
    'Discord: signed /ood start → the edit showing the server up (local, bundled game)',
    `${median(upEdit)} ms`,
    `runs ${upEdit.join(', ')} ms`,
    'reported',
    true,
  );
}
