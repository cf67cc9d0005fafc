import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../controller/store/store.js';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { commandBody, discordKeys, signedPost, snowflake, startDiscordReceiver, type DiscordReceiver, type ReceivedRequest } from './helpers/discord.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { waitUntil } from './helpers/wait.js';

const APP = '1234567890123456789';
const USER = '400000000000000001';

interface EditBody {
  embeds: { title: string; fields: { name: string; value: string }[] }[];
  components: unknown[];
  allowed_mentions: { parse: unknown[] };
}

const titleOf = (r: ReceivedRequest) => (r.body as EditBody).embeds[0]?.title;
const PROVISIONING = 'world: Starting: getting the machine ready';
const BOOTING = 'world: Starting: the world is loading';
const UP = 'world: Up';

/**
 * Issue 21: a `/ood start` from Discord is answered at once and its message is then edited as the
 * phase moves, through the outbox. A kill -9 of the controller in the middle of the start loses no
 * edit and sends none twice: the edits written before the kill went out before it, the ones after
 * come from the restarted controller, in order, each once.
 */
describe('Discord follow-up edits across a kill -9', () => {
  let home: OodHome | undefined;
  let controller: ControllerProcess | undefined;
  let rx: DiscordReceiver | undefined;
  afterEach(async () => {
    await controller?.stop();
    await rx?.close();
    await home?.cleanup();
  });

  /** A home with Discord configured, a listed person who may start, and a controller whose boot step pauses 6 s. */
  async function startedFromDiscord() {
    const keys = discordKeys();
    rx = await startDiscordReceiver();
    home = await makeOodHome({ config: { discord: { applicationId: APP, publicKey: keys.publicKeyHex } } });
    // Written before the controller holds the store.
    const store = Store.open(join(home.dataDir, 'ood.db'));
    store.people.put(`discord:${USER}`, ['start'], 'test', Date.now());
    store.close();
    const env = { OOD_DISCORD_API_URL: rx.apiUrl };
    controller = await startControllerProcess(home.configPath, { ...env, OOD_FAILPOINTS: 'boot:before=6000' });
    const token = `aW50ZXJhY3Rpb246${snowflake()}tok`;
    const answer = await signedPost(`${controller.url}/discord/interactions`, commandBody({ applicationId: APP, id: snowflake(), token }, { userId: USER }, 'start', 'world'), keys);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toMatchObject({ type: 4 });
    return { env, token, home, rx, edits: () => rx!.requests.filter((r) => r.method === 'PATCH') };
  }

  it('the receiver gets starting, then (after the restart) running with the address, each once, in order', async () => {
    const { env, token, home, rx, edits } = await startedFromDiscord();
    let api = apiFor(controller!.url);
    // In the boot step's pause: the edit of the move to booting has arrived; then the controller dies.
    await waitUntil('the boot step to be under way', async () => (await api.journal()).some((e) => e.step === 'boot' && e.outcome === null));
    await rx.waitFor('the booting edit', (r) => r.method === 'PATCH' && titleOf(r) === BOOTING, 1, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; edits so far: ${edits().map(titleOf).join(' | ')}; ${controller!.output()}`);
    });
    expect((await api.server()).phase).toBe('booting');
    await controller!.kill9();
    const beforeKill = edits().length;

    controller = await startControllerProcess(home.configPath, env);
    api = apiFor(controller.url);
    await waitUntil('running after the restart', async () => (await api.server()).phase === 'running', 60_000);
    const [up] = await rx.waitFor('the running edit', (r) => r.method === 'PATCH' && titleOf(r) === UP, 1, 30_000);
    // Stay a moment: nothing more may come (no repeat of an edit sent before the kill).
    await new Promise((r) => setTimeout(r, 2_000));

    const sent = edits();
    expect(sent.length).toBeGreaterThan(beforeKill);
    expect(sent.every((r) => r.path === `/webhooks/${APP}/${token}/messages/@original`)).toBe(true);
    expect(sent.every((r) => r.headers.authorization === undefined)).toBe(true);
    // Each edit once (each move's card differs, so a repeat would show as a second equal title), in the order of the moves.
    expect(sent.map(titleOf)).toEqual([PROVISIONING, BOOTING, UP]);
    const fields = (up!.body as EditBody).embeds[0]!.fields;
    expect(fields.find((f) => f.name === 'Address')?.value).toContain(`127.0.0.1:${home.gamePort}`);
    expect((up!.body as EditBody).allowed_mentions).toEqual({ parse: [] });
    expect(controller.output()).not.toContain(token);
  }, 120_000);

  it('a kill during the final edit: the restarted controller edits the message to the running card again (§6: a repeated edit of the same card shows nothing twice)', async () => {
    const { env, rx, edits } = await startedFromDiscord();
    await rx.waitFor('the booting edit', (r) => r.method === 'PATCH' && titleOf(r) === BOOTING, 1, 30_000);
    // The running edit is held unanswered; the controller dies while it waits for Discord.
    rx.answerNext(1, { status: 200, body: {}, delayMs: 4_000 });
    await rx.waitFor('the running edit', (r) => r.method === 'PATCH' && titleOf(r) === UP, 1, 30_000);
    await controller!.kill9();

    controller = await startControllerProcess(home!.configPath, env);
    const both = await rx.waitFor('the running edit again', (r) => r.method === 'PATCH' && titleOf(r) === UP, 2, 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(both.map((r) => r.body)).toEqual([both[0]!.body, both[0]!.body]);
    // Only the cut-off edit came again; the ones answered before the kill did not.
    expect(edits().map(titleOf)).toEqual([PROVISIONING, BOOTING, UP, UP]);
    const api = apiFor(controller.url);
    expect((await api.server()).phase).toBe('running');
  }, 120_000);
});
