// A signed Discord interaction captured on its way in (a proxy that logs bodies and headers) and played
// again (issue 21). OoD refuses a signature it already accepted within the 5 min window; that memory is
// the process's, so a controller that restarted inside the window must not forget the interactions it
// already acted on: the interaction's id is in the database with the message it tracks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Serving } from '../controller/cli/serve.js';
import { commandBody, discordKeys, signInteraction, startDiscordReceiver, type DiscordKeys, type DiscordReceiver } from './helpers/discord.js';
import { serveInProcess } from './helpers/in-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';

const APP = '1234567890123456789';
const ANN = { userId: '200000000000000001', username: 'ann' };

describe('a captured Discord interaction played again after a restart', () => {
  let home: OodHome;
  let serving: Serving | undefined;
  let keys: DiscordKeys;
  let receiver: DiscordReceiver;

  beforeAll(async () => {
    keys = discordKeys();
    home = await makeOodHome({ config: { discord: { applicationId: APP, publicKey: keys.publicKeyHex } } });
    receiver = await startDiscordReceiver();
  });
  afterAll(async () => {
    await serving?.close();
    await receiver?.close();
    await home?.cleanup();
  });

  it('is refused (401) and does not act a second time', async () => {
    serving = await serveInProcess(home.configPath, { OOD_DISCORD_API_URL: receiver.apiUrl });
    serving.controller.store.people.put(`discord:${ANN.userId}`, ['start', 'stop'], 'test', Date.now());
    const raw = JSON.stringify(commandBody({ applicationId: APP }, ANN, 'stop', 'world'));
    const headers = { 'content-type': 'application/json', ...signInteraction(raw, keys) };
    const first = await fetch(`${serving.url}/discord/interactions`, { method: 'POST', headers, body: raw });
    expect(first.status).toBe(200);
    const stops = () => serving!.controller.store.db.prepare("SELECT COUNT(*) AS n FROM audit WHERE source = 'discord' AND detail = '/ood stop'").get() as { n: number };
    const before = stops().n;
    expect(before).toBeGreaterThan(0);

    // The controller restarts (an upgrade, a crash) a minute later: the same signed request again.
    await serving.close();
    serving = await serveInProcess(home.configPath, { OOD_DISCORD_API_URL: receiver.apiUrl });
    const replay = await fetch(`${serving.url}/discord/interactions`, { method: 'POST', headers, body: raw });
    expect(replay.status).toBe(401);
    expect(stops().n).toBe(before);
  }, 60_000);
});
