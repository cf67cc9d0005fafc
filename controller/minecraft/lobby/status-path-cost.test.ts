import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { statusPing } from '../status-ping.js';
import { LobbyListener } from './lobby-listener.js';
import type { LobbyHandlers } from './types.js';

// A status ping is the lobby's hot path (server lists refresh often): it must not pay for what only
// an online login needs. An AbortController made per connection and aborted at its close built a
// DOMException with a stack trace each time: 4 % of the lobby's CPU, 1.43× the bare node:net server's
// CPU an exchange against 1.12× without (npm run bench lobby, the hostname-routing row).

const handlers: LobbyHandlers = {
  status: () => ({ motd: 'cost', versionName: 'OoD', online: 0, max: 0 }),
  login: () => 'no',
};
let listener: LobbyListener;

beforeAll(async () => {
  listener = new LobbyListener(handlers, { host: '127.0.0.1', port: 0, resolve: () => handlers });
  await listener.listen();
});
afterAll(() => listener.closeAll());
afterEach(() => vi.unstubAllGlobals());

it('answers status pings without making an AbortController', async () => {
  let made = 0;
  class Counting extends AbortController {
    constructor() {
      super();
      made++;
    }
  }
  vi.stubGlobal('AbortController', Counting);
  for (let i = 0; i < 20; i++) expect((await statusPing('127.0.0.1', listener.address!.port, 2_000)).version.name).toBe('OoD');
  await vi.waitFor(() => expect(listener.connections).toBe(0), { timeout: 5_000 });
  expect(made).toBe(0);
});
