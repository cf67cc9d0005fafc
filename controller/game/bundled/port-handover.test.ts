import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ood-home.js';
import { waitUntil } from '../../../test/helpers/wait.js';
import { PortHandover } from './port-handover.js';

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => (s.listening ? s.close(resolve) : resolve(undefined)))));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function gameSocket(port: number, handover: () => PortHandover | undefined): { server: Server; errors: Error[] } {
  const server = createServer();
  servers.push(server);
  const errors: Error[] = [];
  server.on('error', (err) => {
    if (!handover()?.absorbs(err)) errors.push(err);
  });
  server.listen(port, '127.0.0.1');
  return { server, errors };
}

describe('PortHandover', () => {
  it('asks for the port only once ready, keeps trying while it is held, and binds once it is let go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ood-handover-'));
    dirs.push(dir);
    const signal = join(dir, '.ood-port-handover');
    const port = await freePort();
    const lobby = createServer();
    await new Promise<void>((resolve) => lobby.listen(port, '127.0.0.1', resolve));
    let ready!: () => void;
    const game: { handover?: PortHandover } = {};
    const { server, errors } = gameSocket(port, () => game.handover);
    game.handover = new PortHandover(server, signal, port, '127.0.0.1', new Promise<void>((resolve) => (ready = resolve)));

    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(signal)).toBe(false); // not ready: the lobby keeps the port
    ready();
    await waitUntil('the game to ask for its port', () => existsSync(signal), 2_000, 5);
    expect(readFileSync(signal, 'utf8')).toMatch(/waiting/);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.listening).toBe(false);
    await new Promise((resolve) => lobby.close(resolve));
    await waitUntil('the game to listen', () => server.listening, 2_000, 1);
    expect(errors).toEqual([]);
  });

  it('lets EADDRINUSE through after its window, so a port that stays taken fails the game', async () => {
    const port = await freePort();
    const other = createServer();
    servers.push(other);
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'ood-handover-'));
    dirs.push(dir);
    const game: { handover?: PortHandover } = {};
    const { server, errors } = gameSocket(port, () => game.handover);
    game.handover = new PortHandover(server, join(dir, 'signal'), port, '127.0.0.1', Promise.resolve(), 200);
    await waitUntil('the error to reach the game', () => errors.length > 0, 3_000, 5);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });
});
