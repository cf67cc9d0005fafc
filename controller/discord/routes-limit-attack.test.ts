// Found in the attack on issue 21: the endpoint's rate limits were keyed by any Discord account, and the
// limiter keeps a bounded number of keys. Strangers with fresh accounts (free to make) filled them, and a
// listed person's next command was turned away as "too many". Strangers now share one bucket.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import { afterEach, expect, it } from 'vitest';
import { autocompleteBody, discordKeys, signedPost } from '../../test/helpers/discord.js';
import type { Controller } from '../controller.js';
import { silentLogger } from '../log.js';
import { discordRoutes } from './routes.js';

const keys = discordKeys();
const listed = { identity: 'discord:42', name: 'Alex', permissions: ['start'] };

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

it('serves a listed person after more strangers than the limiter keeps apart have called', async () => {
  const controller = {
    config: { discord: { publicKey: keys.publicKeyHex, applicationId: '2' }, servers: [{ id: 'survival' }] },
    discordFollowups: undefined,
    store: { people: { get: (id: string) => (id === listed.identity ? listed : undefined), admins: () => [] } },
  } as unknown as Controller;
  const app = new Koa();
  app.use(discordRoutes(controller, { log: silentLogger, origin: 'http://127.0.0.1', limitKeys: 3 }).routes());
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server!.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discord/interactions`;
  for (let i = 0; i < 6; i++) {
    const stranger = await signedPost(url, autocompleteBody({ applicationId: '2' }, { userId: String(1000 + i) }, 'start', 'su'), keys);
    expect(stranger.json).toEqual({ type: 8, data: { choices: [] } });
  }
  const answer = await signedPost(url, autocompleteBody({ applicationId: '2' }, { userId: '42' }, 'start', 'su'), keys);
  expect(answer.json).toEqual({ type: 8, data: { choices: [{ name: 'survival', value: 'survival' }] } });
});
