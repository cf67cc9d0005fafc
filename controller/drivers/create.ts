import { DIGITALOCEAN_API, type OodEnv } from '../config/env.js';
import type { Config, ServerConfig } from '../config/schema.js';
import type { OwnSnapshotRepo } from '../store/own-snapshots.js';
import { ConfigError } from '../errors.js';
import { installationId } from '../installation-id.js';
import { runningImageBuilds } from '../image-build-mark.js';
import type { Logger } from '../log.js';
import { DoClient } from './digitalocean/api/client.js';
import { DigitalOceanDriver } from './digitalocean/do-driver.js';
import { findOrphans, OrphanWatch } from './digitalocean/orphans.js';
import { userData } from './digitalocean/keys.js';
import { StackProcess } from './digitalocean/stack-process.js';
import type { Driver } from './driver.js';
import { LocalDriver, type LocalDriverHooks } from './local/local-driver.js';

/** What the drivers read of the environment (config/env.ts). */
export type DriverEnv = Pick<OodEnv, 'childEnv' | 'digitalocean' | 'pulumiEnv'>;

/**
 * Builds drivers from the config and the environment. One DigitalOcean client serves every server and
 * the orphan watch: the rate limit is per token, so one client keeps one count of when it may call again.
 */
export class DriverFactory {
  private client: DoClient | undefined;

  constructor(
    private readonly config: Config,
    private readonly env: DriverEnv,
    private readonly log: Logger,
    /** Where each server's own snapshots are recorded (the store's `ownSnapshots`). */
    private readonly owned: OwnSnapshotRepo,
  ) {}

  /** The driver `server.driver` names. */
  create(server: ServerConfig, log: Logger, clock: () => number, hooks: LocalDriverHooks = {}): Driver {
    if (server.driver === 'local') return new LocalDriver(server, this.config.dataDir, this.env.childEnv, log, clock, hooks, { sharedLobby: this.config.lobby.listen });
    return createDigitalOceanDriver(server, this.config, this.env, this.api(server.id), this.owned, log, clock);
  }

  /** The orphan watch over every DigitalOcean server, or undefined when there is none. */
  orphanWatch(drivers: ReadonlyMap<string, Driver>, log: Logger): OrphanWatch | undefined {
    const cloud = [...drivers].filter((e): e is [string, DigitalOceanDriver] => e[1] instanceof DigitalOceanDriver);
    if (cloud.length === 0) return undefined;
    const api = this.api(cloud[0]![0]);
    const servers = cloud.map(([server, driver]) => ({ server, stackDropletId: () => driver.stackDropletId() }));
    const buildsRunning = () => new Set(runningImageBuilds(this.config.dataDir).map((b) => b.server));
    const installation = () => installationId(this.config.dataDir);
    return new OrphanWatch(async () => findOrphans(api, servers, { remove: this.config.orphans.remove, log, buildsRunning, installation: await installation() }), log);
  }

  /** DigitalOcean's sizes and their prices, for the cost meter; undefined when no server runs there. */
  priceSource(): (() => Promise<Map<string, { hourly: number; monthly: number }>>) | undefined {
    const cloud = this.config.servers.find((s) => s.driver === 'digitalocean');
    if (!cloud) return undefined;
    const api = this.api(cloud.id);
    return async () => new Map((await api.listSizes()).map((size) => [size.slug, { hourly: size.price_hourly, monthly: size.price_monthly }]));
  }

  private api(server: string): DoClient {
    const token = this.env.digitalocean.token;
    if (!token) throw new ConfigError(`Server ${server} uses driver digitalocean, but DIGITALOCEAN_TOKEN is not set: create a token with read and write scope in the DigitalOcean console (API → Tokens) and export it`);
    this.client ??= new DoClient({ baseUrl: this.env.digitalocean.apiUrl, token, log: (msg) => this.log.debug({ component: 'digitalocean-api' }, msg) });
    return this.client;
  }
}

function createDigitalOceanDriver(server: ServerConfig, config: Config, env: DriverEnv, api: DoClient, owned: OwnSnapshotRepo, log: Logger, clock: () => number): Driver {
  const token = env.digitalocean.token!;
  const { digitalocean: cloud, game } = server;
  return new DigitalOceanDriver({
    server,
    // Fixed per server, not derived from how many servers the config has (adding one changes nothing).
    base: server.digitalocean.snapshotPrefix ?? 'ood',
    owned,
    dataDir: config.dataDir,
    api,
    log,
    clock,
    sharedLobby: config.lobby.listen,
    openStack: async (keys) =>
      new StackProcess({
        spec: {
          server: server.id,
          installation: await installationId(config.dataDir),
          region: cloud.region,
          size: cloud.size,
          gamePort: game.port,
          sshSources: cloud.sshSources,
          // Behind the lobby's proxy the game port is OoD's alone (the same sources as SSH: this machine).
          ...(server.lobby.mode === 'proxy' ? { gameSources: cloud.sshSources } : {}),
          sshPublicKey: keys.clientPublic,
          ...(cloud.sshKeyId ? { sshKeyId: cloud.sshKeyId } : {}),
          userData: userData(keys),
          ...(cloud.domain ? { domain: { zone: cloud.domain, name: server.id } } : {}),
        },
        dataDir: config.dataDir,
        env: { ...env.pulumiEnv, DIGITALOCEAN_TOKEN: token, DIGITALOCEAN_API_URL: env.digitalocean.apiUrl === DIGITALOCEAN_API ? undefined : env.digitalocean.apiUrl },
        ...(config.pulumi.command ? { pulumiCommand: config.pulumi.command } : {}),
        log,
      }),
  });
}

