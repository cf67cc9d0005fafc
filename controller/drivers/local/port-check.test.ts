import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ood-home.js';
import { checkGamePorts, PortInUseError } from './port-check.js';
import { portHolders } from './port-holders.js';

const servers: Server[] = [];
async function listenOn(port: number, host: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('portHolders', () => {
  it('finds this process listening on a port, by the socket inode in /proc', async () => {
    const port = await freePort();
    expect(await portHolders(port)).toEqual([]);
    await listenOn(port, '127.0.0.1');
    expect(await portHolders(port)).toEqual([expect.objectContaining({ pid: process.pid, state: 'LISTEN' })]);
  });
});

describe('checkGamePorts', () => {
  it('passes free ports, and a port only the lobby holds when the lobby hands it over', async () => {
    const port = await freePort();
    expect(await checkGamePorts([{ what: 'game', host: undefined, port }], () => false)).toEqual([]);
    // The game binds every address; a listener on loopback alone is in its way too.
    await listenOn(port, '127.0.0.1');
    expect(await checkGamePorts([{ what: 'game', host: undefined, port }], (p) => p === port)).toEqual([port]);
  });

  it('refuses a port this controller holds when it is not the lobby that hands it over', async () => {
    const port = await freePort();
    await listenOn(port, '127.0.0.1');
    const err = await checkGamePorts([{ what: 'RCON', host: '127.0.0.1', port }], () => false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as PortInUseError).retryable).toBe(false);
    expect((err as Error).message).toMatch(new RegExp(`^The RCON port ${port} is already in use by \\S+ \\(pid ${process.pid}, this controller\\), .*set game.rconPort to a free port`));
  });
});
