/**
 * A load generator for OoD's Discord interactions endpoint, run with plain node in its own process so
 * that it never shares an event loop with what it measures:
 *
 *   OOD_BENCH_DISCORD_KEY=<PKCS#8 PEM> node test/bench/discord-load.mjs <url> <applicationId> <firstUserId> <users> [connections=16] [warmUpS=2] [durationS=10] [status|ping]
 *
 * Every request is a fresh `/ood status` as Discord sends it: a new interaction id and token, the
 * caller one of `users` listed people (`discord:<firstUserId + i>`, taken in turn so that none
 * reaches the endpoint's 20 commands a minute), signed with Ed25519 over the current timestamp and
 * the body, so the endpoint's replay check never refuses one. A 200 that is not a status card (an
 * ephemeral refusal or limit message) counts as failed. With `ping`, each request is a signed PING
 * instead (the floor: reading, verifying and answering, with no command behind it). Prints autocannon's result as one JSON line,
 * with `notCards`. Loopback only.
 */
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

const [url, applicationId, firstUser, usersText, connections = '16', warmUp = '2', duration = '10', kind = 'status'] = process.argv.slice(2);
const users = Number(usersText);
if (!url || !applicationId || !/^\d+$/.test(firstUser ?? '') || !Number.isInteger(users)) throw new Error('usage: discord-load.mjs <url> <applicationId> <firstUserId> <users> [connections] [warmUpS] [durationS]');
if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the bench only loads loopback, not ${url}`);
const key = createPrivateKey(process.env.OOD_BENCH_DISCORD_KEY ?? '');

const USER_BASE = BigInt(firstUser);
let next = 0;
let seq = 0n;

function statusRequest() {
  const user = (USER_BASE + BigInt(next++ % users)).toString();
  const id = (1_300_000_000_000_000_000n + seq++).toString();
  const body = JSON.stringify({
    id,
    application_id: applicationId,
    type: 2,
    token: `aW50ZXJhY3Rpb246${randomBytes(24).toString('base64url')}`,
    version: 1,
    guild_id: '1100000000000000001',
    channel_id: '1100000000000000002',
    member: { user: { id: user, username: `bench${user.slice(-4)}`, discriminator: '0', global_name: null, avatar: null }, roles: [], permissions: '2248473465835073', joined_at: '2024-01-01T00:00:00.000000+00:00', nick: null, deaf: false, mute: false, flags: 0 },
    app_permissions: '2248473465835073',
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { 0: '1100000000000000001' },
    context: 0,
    data: { id: '1200000000000000001', name: 'ood', type: 1, options: [{ type: 1, name: 'status', options: [] }] },
  });
  return signed(body);
}

function pingRequest() {
  return signed(JSON.stringify({ id: (1_300_000_000_000_000_000n + seq++).toString(), application_id: applicationId, type: 1, token: randomBytes(24).toString('base64url'), version: 1 }));
}

function signed(body) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign(null, Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString('hex');
  return { body, headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp } };
}

/**
 * Requests signed before a run starts, so that this process's own signing (about 60 µs each) does not
 * compete for the 2 cores with the endpoint it measures; each is used once, and signed at most a
 * minute before it is sent (well inside the endpoint's 5 min). A run that uses them up signs the rest as it goes.
 * The endpoint remembers 100,000 accepted signatures for 5 min: two runs (PING, then status) stay below it.
 */
const PRESIGNED = 36_000;
let pool = [];
const fresh = () => (kind === 'ping' ? pingRequest() : statusRequest());
const nextRequest = () => pool.pop() ?? fresh();

let notCards = 0;
const run = (seconds) =>
  autocannon({
    url,
    connections: Number(connections),
    duration: Number(seconds),
    method: 'POST',
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => ({ ...req, ...nextRequest() }),
        onResponse: (status, body) => {
          if (status !== 200) return;
          try {
            const answer = JSON.parse(body);
            if (kind === 'ping' ? answer.type !== 1 : answer.type !== 4 || !answer.data?.embeds?.length || (answer.data.flags ?? 0) & 64) notCards++;
          } catch {
            notCards++;
          }
        },
      },
    ],
  });

await run(Number(warmUp));
notCards = 0;
pool = Array.from({ length: PRESIGNED }, fresh);
const presignedLeft = () => pool.length;
const result = await run(Number(duration));
process.stdout.write(`${JSON.stringify({ ...result, notCards, signedDuringRun: Math.max(0, result.requests.sent - PRESIGNED + presignedLeft()) })}\n`);
