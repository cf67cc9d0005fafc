import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { bundledGameCommand } from '../../controller/game/command.js';
import { findHostProcesses, signalAll } from '../../controller/drivers/local/processes.js';

/** A free TCP port on loopback, found by binding port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface OodHome {
  dir: string;
  configPath: string;
  dataDir: string;
  hostDir(server?: string): string;
  archiveDir(server?: string): string;
  gamePort: number;
  rconPort: number;
  /** Ends game processes this test started (found by their OoD marker), then removes the directory. */
  cleanup(): Promise<void>;
}

/** A temp directory with an `ood.yaml` for one local server running OoD's test Minecraft server. */
export async function makeOodHome(options: { server?: Record<string, unknown>; reconcile?: Record<string, unknown>; templateFiles?: Record<string, string | Buffer>; command?: string[]; config?: Record<string, unknown> } = {}): Promise<OodHome> {
  const dir = mkdtempSync(join(tmpdir(), 'ood-test-'));
  const gamePort = await freePort();
  let rconPort = await freePort();
  while (rconPort === gamePort) rconPort = await freePort();
  const template = join(dir, 'template');
  mkdirSync(template);
  writeFileSync(join(template, 'server.properties'), 'online-mode=false\nmotd=OoD test\nood-test-everybody-op=true\n');
  for (const [name, content] of Object.entries(options.templateFiles ?? {})) {
    mkdirSync(join(template, name, '..'), { recursive: true });
    writeFileSync(join(template, name), content);
  }
  const config = {
    dataDir: './data',
    listen: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    reconcile: { fastTick: '100ms', slowTick: '1s', playerProbe: '250ms', backoff: '200ms', maxBackoff: '1s', ...options.reconcile },
    servers: [
      {
        id: 'world',
        local: { command: options.command ?? bundledGameCommand(), template: './template', publicHost: '127.0.0.1' },
        idle: { emptyAfter: '1h', neverJoined: '1h', warnings: ['1s'] },
        deadlines: { booting: '60s', stopping: '20s', poweringOff: '10s' },
        ...options.server,
        // A test that sets other game keys keeps the ports the OS gave: replaced whole, `game` fell back
        // to 25565 and 25575, which another test or program may hold (game-faults failed so, once).
        game: { port: gamePort, rconPort, ...(options.server?.game as Record<string, unknown> | undefined) },
      },
    ],
    ...options.config,
  };
  const configPath = join(dir, 'ood.yaml');
  writeFileSync(configPath, stringify(config));
  const dataDir = join(dir, 'data');
  const hostDir = (server = 'world') => join(dataDir, 'servers', server, 'host');
  return {
    dir,
    configPath,
    dataDir,
    hostDir,
    archiveDir: (server = 'world') => join(dataDir, 'servers', server, 'archives'),
    gamePort,
    rconPort,
    cleanup: async () => {
      signalAll(await findHostProcesses(hostDir()), 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
