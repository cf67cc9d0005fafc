// A stand-in for Mojang's session server on loopback, with the two calls a login needs:
//   POST /session/minecraft/join      {accessToken, selectedProfile, serverId}: the client says it joins
//                                      (minecraft-protocol's client sends it with `sessionServer`);
//                                      204 when the token belongs to a known account, else 403.
//   GET  /session/minecraft/hasJoined?username=&serverId=: 200 with the documented profile
//        ({id, name, properties: [{name, value, signature}]}) when that account joined with that
//        server hash, else 204, as Mojang answers.
// `mode` makes it answer 204 to everything (no valid session) or hang (a time-out).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInAccount {
  /** 32 hex digits, no dashes. */
  id: string;
  name: string;
  accessToken: string;
}

export interface SessionCall {
  path: string;
  username?: string;
  serverId?: string;
  status: number | 'hung';
}

export interface SessionStandIn {
  /** http://127.0.0.1:PORT, no trailing slash: what `lobby.sessionServer` and the client's `sessionServer` take. */
  url: string;
  calls: SessionCall[];
  mode: 'answer' | 'no-session' | 'hang';
  close(): Promise<void>;
}

export async function startSessionServer(accounts: StandInAccount[]): Promise<SessionStandIn> {
  const joined = new Map<string, string>(); // lower-case name → server hash of its last join
  const standIn: SessionStandIn = { url: '', calls: [], mode: 'answer', close: async () => {} };
  const server = createServer((req, res) => void answer(req, res));

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method === 'POST' && url.pathname === '/session/minecraft/join') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { accessToken?: string; selectedProfile?: string; serverId?: string };
      const account = accounts.find((a) => a.accessToken === body.accessToken && a.id === body.selectedProfile);
      if (account && body.serverId) joined.set(account.name.toLowerCase(), body.serverId);
      const status = account ? 204 : 403;
      standIn.calls.push({ path: url.pathname, ...(body.serverId ? { serverId: body.serverId } : {}), status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(account ? '' : JSON.stringify({ error: 'ForbiddenOperationException', errorMessage: 'Invalid token.' }));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/session/minecraft/hasJoined') {
      const username = url.searchParams.get('username') ?? '';
      const serverId = url.searchParams.get('serverId') ?? '';
      if (standIn.mode === 'hang') {
        standIn.calls.push({ path: url.pathname, username, serverId, status: 'hung' });
        return; // never answered; close() ends it
      }
      const account = accounts.find((a) => a.name.toLowerCase() === username.toLowerCase());
      const proven = standIn.mode === 'answer' && account !== undefined && joined.get(account.name.toLowerCase()) === serverId;
      standIn.calls.push({ path: url.pathname, username, serverId, status: proven ? 200 : 204 });
      if (!proven) return void res.writeHead(204).end();
      const textures = Buffer.from(JSON.stringify({ profileId: account.id, profileName: account.name, textures: {} })).toString('base64');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: account.id, name: account.name, properties: [{ name: 'textures', value: textures, signature: 'c3RhbmQtaW4=' }] }));
      return;
    }
    standIn.calls.push({ path: url.pathname, status: 404 });
    res.writeHead(404).end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return standIn;
}
