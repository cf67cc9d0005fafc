import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Failpoints } from './config/env.js';
import { DIGITALOCEAN_API, DISCORD_API } from './config/env.js';
import { applyLive, planReload } from './config/reload.js';
import type { Config } from './config/schema.js';
import { DriverFactory, type DriverEnv } from './drivers/create.js';
import type { OrphanWatch } from './drivers/digitalocean/orphans.js';
import { DigitalOceanDriver } from './drivers/digitalocean/do-driver.js';
import { SnapshotAdoptError } from './drivers/digitalocean/droplet-stop.js';
import type { Driver, StackUpdate } from './drivers/driver.js';
import { STACK_HISTORY_WAIT_MS, within } from './drivers/stack-history.js';
import { Estimates } from './estimates.js';
import { ImageBuildRunningError, runningImageBuild } from './image-build-mark.js';
import { LobbyService } from './lobby/lobby-service.js';
import { LobbyHub, openLobbyHub } from './lobby/lobby-hub.js';
import { listensOnOwnPort } from './config/hostname-routes.js';
import { CostMeter } from './cost/cost-meter.js';
import { Notifier } from './notify/notifier.js';
import { allOf } from './reconcile/runner-events.js';
import { acquireLock } from './lock.js';
import { checkCommand } from './console/command-check.js';
import { ConsoleBusyError, ConsoleNotRunningError } from './console/console-errors.js';
import { LogHub } from './logs/log-hub.js';
import { cardFor } from './discord/card-facts.js';
import { DiscordFollowups, EDIT_TARGET_PREFIX } from './discord/followups.js';
import { removeOwnPulumiLocks } from './drivers/digitalocean/own-pulumi-locks.js';
import type { Logger } from './log.js';
import { ServerRunner, type ServerView } from './reconcile/loop.js';
import type { Desired } from './reconcile/types.js';
import { Store } from './store/store.js';
import { findVersion, type WorldVersion } from './worlds/versions.js';
import { chooseWorld, forgetSnapshotListing, listWorlds } from './worlds/world-actions.js';
import { UnknownWorldVersionError, WorldChoiceRunningError, WorldRestoreRefusedError } from './worlds/world-errors.js';

/** Console commands one server may have waiting for the game at once; a third is refused (429). */
const CONSOLE_IN_FLIGHT = 2;

/** What a config reload did: keys applied to the running controller, and keys that wait for a restart. */
export interface ConfigReload {
  applied: string[];
  needsRestart: string[];
}

export interface Request {
  actor: string;
  source: string;
  /** What the audit log says beside the action (the lobby: "joined the lobby"). */
  detail?: string;
}

/**
 * The running controller: the store, one driver and one reconcile runner per configured server.
 * Web and CLI requests only change what is wanted and poke the runner; they never act themselves.
 */
export class Controller {
  private readonly servers = new Map<string, { runner: ServerRunner; driver: Driver; lobby: LobbyService | undefined; logs: LogHub }>();
  /** Console commands waiting for the game's answer, per server. */
  private readonly consoleInFlight = new Map<string, number>();
  private readonly orphanWatch: OrphanWatch | undefined;
  /** The shared lobby (top-level lobby.listen): every server reached by name on one port. */
  private readonly hub: LobbyHub | undefined;
  private readonly changeListeners = new Set<() => void>();
  /** Servers whose next start's world is being written (a restore, an upload), and by what: starts wait for it (choosingWorldWhileArchived). */
  private readonly choosingWorld = new Map<string, string>();
  /** How long starts and stops usually take, per server (the web's progress bars, the lobby's "ready in"). */
  readonly estimates: Estimates;
  /** What hosts and snapshots cost this month, and the budget. */
  readonly meter: CostMeter;
  /** Who hears what happens (Discord, a JSON webhook), through an outbox in the store. */
  readonly notifier: Notifier;
  /**
   * The Discord messages edited as a start or stop moves (with `discord` in the config): the
   * interactions endpoint calls `discordFollowups.track(...)` inside `want`'s `inTransaction`.
   */
  readonly discordFollowups: DiscordFollowups | undefined;
  private changeQueued = false;
  private readonly log: Logger;

  private constructor(
    readonly config: Config,
    readonly store: Store,
    private readonly releaseLock: () => void,
    log: Logger,
    env: DriverEnv,
    private readonly clock: () => number,
    failpoints: Failpoints,
    notifyUrls: { discordUrl?: string; webhookUrl?: string },
    discordApiUrl: string,
  ) {
    this.log = log;
    store.servers.ensure(config.servers.map((s) => s.id), clock());
    this.estimates = new Estimates(store.journal);
    const interrupted = store.journal.closeInterrupted(clock());
    if (interrupted > 0) log.warn({ interrupted }, 'Found steps cut off by a stop of the controller; observing again before acting');
    const drivers = new DriverFactory(config, env, log, store.ownSnapshots);
    const made = config.servers.map((server) => {
      const lobby =
        server.lobby.mode === 'off'
          ? undefined
          : new LobbyService({
              server,
              view: () => this.view(server.id),
              gameEndpoint: () => this.server(server.id).driver.gameEndpoint(),
              playerAddress: () => this.server(server.id).driver.playerAddress(),
              wake: (who) => this.want(server.id, 'up', who),
              people: store.people,
              audit: store.audit,
              webSessionMs: config.web.sessionMaxAge,
              estimates: this.estimates,
              log: log.child({ server: server.id }),
              clock,
              ownPort: listensOnOwnPort(config, server),
              sessionServer: config.lobby.sessionServer,
            });
      // A sibling of the loop's logger, not its child: pino would repeat the `component` key.
      const driver = drivers.create(server, log.child({ component: 'driver', server: server.id }), clock, lobby ? { beforeBoot: () => lobby.releasePort() } : {});
      return { server, driver, lobby };
    });
    this.hub = openLobbyHub(config, new Map(made.flatMap(({ server, lobby }) => (lobby ? [[server.id, lobby.handlers] as const] : []))), log.child({ component: 'lobby', lobby: 'shared' }));
    const fetchPrices = drivers.priceSource();
    const followups = (this.discordFollowups = config.discord
      ? new DiscordFollowups({
          db: store.db,
          apiUrl: discordApiUrl,
          render: ({ server, identity, move }) => {
            const { embeds = [], components = [] } = cardFor(this, server, identity, move);
            return { embeds, components };
          },
          wantedUp: (server) => store.servers.get(server)?.desired === 'up',
          wake: () => this.notifier.wake(),
          log,
        })
      : undefined);
    this.notifier = new Notifier({
      db: store.db,
      config: config.notifications,
      urls: notifyUrls,
      // Without `discord` in the config, edits left from a run with it are given up ("no URL is set").
      routes: (row, now) => (followups && row.target.startsWith(EDIT_TARGET_PREFIX) ? followups.resolve(row, now) : undefined),
      log,
      clock,
    });
    this.meter = new CostMeter({ store, config, drivers: new Map(made.map((m) => [m.server.id, m.driver])), ...(fetchPrices ? { fetchPrices } : {}), log: log.child({ component: 'cost' }), clock });
    for (const { server, driver, lobby } of made) {
      const serverLog = log.child({ component: 'reconcile', server: server.id });
      const logs = new LogHub({ server: server.id, follow: (o) => driver.followLog(o), asleep: () => store.servers.get(server.id)?.phase === 'archived', log: log.child({ component: 'logs', server: server.id }), clock });
      const runner = new ServerRunner({ store, driver, server, reconcile: config.reconcile, log: serverLog, clock, failpoints, onTick: () => this.changed(), events: allOf(this.meter.events, this.notifier.events, ...(followups ? [followups.events] : []), logs.events) });
      this.servers.set(server.id, { driver, runner, lobby, logs });
    }
    this.orphanWatch = drivers.orphanWatch(new Map([...this.servers].map(([id, s]) => [id, s.driver])), log.child({ component: 'orphans' }));
  }

  static open(
    config: Config,
    options: { log: Logger; childEnv: NodeJS.ProcessEnv; env?: Omit<DriverEnv, 'childEnv'>; clock?: () => number; failpoints?: Failpoints; notifications?: { discordUrl?: string | undefined; webhookUrl?: string | undefined }; discord?: { apiUrl: string } },
  ): Controller {
    mkdirSync(config.dataDir, { recursive: true });
    const release = acquireLock(join(config.dataDir, 'controller.lock'));
    try {
      const store = Store.open(join(config.dataDir, 'ood.db'));
      const env: DriverEnv = { childEnv: options.childEnv, digitalocean: { token: undefined, apiUrl: DIGITALOCEAN_API }, pulumiEnv: {}, ...options.env };
      // Before any stack operation: holding the data dir, every lock in OoD's own Pulumi backend is a dead update's.
      removeOwnPulumiLocks(config.dataDir, env.pulumiEnv, (path) => options.log.warn({ path }, `Removed a Pulumi lock left by an update that no longer runs: ${path}`));
      const urls = options.notifications ?? {};
      const notifyUrls = { ...(urls.discordUrl ? { discordUrl: urls.discordUrl } : {}), ...(urls.webhookUrl ? { webhookUrl: urls.webhookUrl } : {}) };
      return new Controller(config, store, release, options.log, env, options.clock ?? Date.now, options.failpoints ?? new Map(), notifyUrls, options.discord?.apiUrl ?? DISCORD_API);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** How a notification names who asked: a person's name, a Minecraft name, or what the actor is. */
  private displayName(actor: string): string {
    if (actor === 'admin-token') return 'an admin';
    if (actor.startsWith('minecraft:')) return actor.slice('minecraft:'.length);
    return this.store.people.get(actor)?.name ?? actor;
  }

  start(): void {
    // Before the worker gives up what a kill left half-sent: a message's cut-off newest edit goes again (followups.ts, resync).
    this.discordFollowups?.resync(this.clock());
    this.notifier.start();
    for (const { runner } of this.servers.values()) runner.start();
    void this.meter.refreshPrices();
    const lobbies = [...this.servers.values()].flatMap(({ lobby }) => (lobby ? [lobby] : []));
    if (lobbies.length > 0) {
      this.onChange(() => lobbies.forEach((lobby) => lobby.sync()));
      lobbies.forEach((lobby) => lobby.sync());
    }
    this.hub?.start();
    this.orphanWatch?.start();
  }

  /**
   * Calls `listener` soon after anything a view shows may have changed (a tick ran, a request came);
   * several changes in one turn of the event loop make one call. Returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(): void {
    if (this.changeQueued || this.changeListeners.size === 0) return;
    this.changeQueued = true;
    setImmediate(() => {
      this.changeQueued = false;
      for (const listener of this.changeListeners) listener();
    });
  }

  /** What the orphan watch saw last (DigitalOcean only): droplets no stack owns, stacks whose droplet is gone. */
  orphans() {
    return this.orphanWatch?.latest() ?? null;
  }

  /**
   * A server's Pulumi stack history (null for drivers without a stack). Reading it takes a process and
   * seconds: past `waitMs` the answer is `loading` while the read goes on for the next view.
   */
  async stackHistory(id: string, waitMs = STACK_HISTORY_WAIT_MS): Promise<{ stack: StackUpdate[] | null; loading: boolean }> {
    const read = await within(this.server(id).driver.stackHistory(), waitMs);
    return 'value' in read ? { stack: read.value, loading: false } : { stack: null, loading: true };
  }

  has(id: string): boolean {
    return this.servers.has(id);
  }

  /** Every server in config order, from one query of the store. */
  views(): ServerView[] {
    const states = new Map(this.store.servers.list().map((state) => [state.id, state]));
    // `ensure` wrote a row for every configured server when the controller opened.
    return [...this.servers.values()].map(({ runner }) => runner.view(states.get(runner.id)!));
  }

  view(id: string): ServerView {
    return this.server(id).runner.view();
  }

  /**
   * Records what `who` wants; concurrent identical requests coalesce into one change and one tick. A
   * start that would go past the month's budget throws BudgetError, unless `overrideBudget` (an admin's).
   * Every start (API, page, lobby, CLI through the API) comes here: the budget is decided from what the
   * same write transaction reads, so starts pressed together are counted against each other.
   */
  want(id: string, desired: Desired, who: Request, options: { overrideBudget?: boolean; /** Runs inside the same write transaction, after the change (a Discord message to edit as it moves). */ inTransaction?: () => void } = {}): ServerView {
    const runner = this.server(id).runner;
    const now = this.clock();
    if (desired === 'up') void this.meter.refreshPrices();
    this.store.db
      .transaction(() => {
        const current = this.store.servers.get(id)!;
        const starting = desired === 'up' && current.desired === 'down';
        if (starting && !options.overrideBudget) this.meter.checkBudget(id, this.store.servers.list());
        // Read inside the write lock: `ood image build` sets its mark, then reads the phase under the same lock.
        const build = starting ? runningImageBuild(this.config.dataDir, id) : null;
        if (build) throw new ImageBuildRunningError(build);
        // A restore or upload writing the next start's choice: this start's provision would read it half made.
        const choosing = starting ? this.choosingWorld.get(id) : undefined;
        if (choosing) throw WorldChoiceRunningError.start(id, choosing);
        this.store.servers.setDesired(id, desired, who.actor, now);
        this.store.audit.add({ at: now, actor: who.actor, source: who.source, action: desired === 'up' ? 'start' : 'stop', server: id, detail: who.detail ?? null });
        if (starting) this.notifier.starting(id, this.displayName(who.actor), this.estimates.of(id, current.phaseSince).start, now);
        options.inTransaction?.();
      })
      // IMMEDIATE: the write lock is taken before the budget's reads, so no other writer slips between.
      .immediate();
    runner.poke();
    this.changed();
    return runner.view();
  }

  keepAlive(id: string, who: Request): ServerView {
    const runner = this.server(id).runner;
    const server = this.config.servers.find((s) => s.id === id)!;
    const now = this.clock();
    this.store.servers.setKeepAlive(id, now + server.idle.keepAlive);
    this.store.audit.add({ at: now, actor: who.actor, source: who.source, action: 'keep-alive', server: id, detail: null });
    runner.poke();
    this.changed();
    return runner.view();
  }

  /**
   * A config reload (`ood config reload`, SIGHUP): what can change while running is written into the
   * running config's own objects, which runners, lobbies, the meter and the notifier read; the rest is
   * named as needing a restart and left as it runs. `next` must have passed the checks serve makes.
   */
  applyConfig(next: Config, who: Request): ConfigReload {
    const plan = planReload(this.config, next);
    applyLive(this.config, plan);
    const now = this.clock();
    // Admins named in the file are made admins, as at start; one taken out keeps the role until the admin page removes it.
    if (plan.live.some((c) => c.name === 'web.admins')) this.store.people.ensureAdmins(this.config.web.admins, now);
    const applied = plan.live.map((c) => c.name);
    const needsRestart = plan.restart.map((c) => c.name);
    const detail = [applied.length > 0 ? `applied: ${applied.join(', ')}` : '', needsRestart.length > 0 ? `needs a restart: ${needsRestart.join(', ')}` : ''].filter(Boolean).join('; ') || 'nothing changed';
    this.store.audit.add({ at: now, actor: who.actor, source: who.source, action: 'config reloaded', server: null, detail });
    if (needsRestart.length > 0) this.log.warn({ applied, needsRestart, by: who.actor }, `Reloaded the config: ${detail}; restart OoD to apply the rest`);
    else this.log.info({ applied, by: who.actor }, `Reloaded the config: ${detail}`);
    // Timers were set from the old values: every runner decides again now.
    for (const { runner } of this.servers.values()) runner.poke();
    this.changed();
    return { applied, needsRestart };
  }

  archives(id: string) {
    return this.server(id).driver.archives();
  }

  /** `ood snapshots adopt`: claims a snapshot as the server's own (DigitalOcean servers only), audited. */
  async adoptSnapshot(id: string, ref: string, who: Request): Promise<{ id: string; name: string }> {
    const driver = this.server(id).driver;
    if (!(driver instanceof DigitalOceanDriver)) throw new SnapshotAdoptError(`Server ${id} does not run on DigitalOcean; only DigitalOcean snapshots are adopted`);
    const adopted = await driver.adoptSnapshot(ref);
    forgetSnapshotListing(driver);
    this.store.audit.add({ at: this.clock(), actor: who.actor, source: who.source, action: 'snapshot adopted', server: id, detail: `${adopted.name} (id ${adopted.id})` });
    return adopted;
  }

  /** Every world version OoD keeps for the server, newest first (controller/worlds/versions.ts). */
  worlds(id: string): Promise<WorldVersion[]> {
    return listWorlds(this.server(id).driver, { store: this.store, dataDir: this.config.dataDir, server: id, now: this.clock() });
  }

  /**
   * An admin's restore: the next start boots `versionId`. Only while the server is archived and nobody
   * wants it up (a host that exists will be saved as a newer version). Nothing is deleted; journal and
   * audit say who chose what, in one transaction.
   */
  async restoreWorld(id: string, versionId: string, who: Request): Promise<WorldVersion> {
    const { driver, runner } = this.server(id);
    const refuseUnlessArchived = () => {
      const state = this.store.servers.get(id)!;
      if (state.phase !== 'archived' || state.desired !== 'down') {
        throw new WorldRestoreRefusedError(
          `Server ${id} is ${state.phase}${state.desired === 'up' ? ' and wanted up' : ''}; a world is restored only while the server is archived (stopped, no host). Stop it, wait until it is archived, then restore`,
        );
      }
    };
    refuseUnlessArchived();
    // A fresh snapshot listing: the shared one may still name a snapshot a prune just removed.
    const version = findVersion(await listWorlds(driver, { store: this.store, dataDir: this.config.dataDir, server: id, now: this.clock(), fresh: true }), versionId);
    if (!version) throw new UnknownWorldVersionError(`Server ${id} has no world version ${versionId}; \`ood worlds ${id}\` lists the ones it keeps`);
    const now = this.clock();
    await this.choosingWorldWhileArchived(id, `a restore of ${version.id} by ${this.displayName(who.actor)}`, refuseUnlessArchived, () => chooseWorld(driver, version, { dataDir: this.config.dataDir, server: id, by: who.actor, now }));
    const detail = `${version.name} (${version.where}, version ${version.id}); the next start boots it, newer versions are kept`;
    this.store.db.transaction(() => {
      this.store.journal.record(id, 'archived', 'restore', `Restored by ${this.displayName(who.actor)}: ${detail}`, now);
      this.store.audit.add({ at: now, actor: who.actor, source: who.source, action: 'world restored', server: id, detail });
    })();
    runner.poke();
    this.changed();
    return { ...version, chosen: true, next: true };
  }

  /**
   * Writes the next start's world choice (`write`) with starts of `id` refused meanwhile (`want`): `refuse`
   * (the archived-and-down check) runs in the same turn as the mark is set, so no start slips between
   * the check and the record a start's provision reads.
   */
  async choosingWorldWhileArchived<T>(id: string, what: string, refuse: () => void, write: () => Promise<T>): Promise<T> {
    refuse();
    const other = this.choosingWorld.get(id);
    if (other) throw WorldChoiceRunningError.another(id, other);
    this.choosingWorld.set(id, what);
    try {
      return await write();
    } finally {
      this.choosingWorld.delete(id);
    }
  }

  /** The shared lobby (undefined without lobby.listen). */
  /**
   * Sends one command to a running game's console (issue 21) and returns its answer. The audit row is
   * written before the command goes out, so a command that hangs or kills the game is still on record.
   * At most CONSOLE_IN_FLIGHT commands per server wait for the game at once.
   */
  async consoleCommand(id: string, text: string, who: Request): Promise<string> {
    const { driver } = this.server(id);
    const command = checkCommand(text);
    const phase = this.view(id).state.phase;
    if (phase !== 'running') throw new ConsoleNotRunningError(id, phase);
    const inFlight = this.consoleInFlight.get(id) ?? 0;
    if (inFlight >= CONSOLE_IN_FLIGHT) throw new ConsoleBusyError(id, inFlight);
    this.store.audit.add({ at: this.clock(), actor: who.actor, source: who.source, action: 'console', server: id, detail: command });
    this.consoleInFlight.set(id, inFlight + 1);
    try {
      return await driver.consoleCommand(command);
    } finally {
      this.consoleInFlight.set(id, (this.consoleInFlight.get(id) ?? 1) - 1);
    }
  }

  /** A server's console lines: the game's log and OoD's own, shared by every viewer. */
  logs(id: string): LogHub {
    return this.server(id).logs;
  }

  sharedLobby(): LobbyHub | undefined {
    return this.hub;
  }

  /** A server's lobby (undefined when its lobby.mode is off). */
  lobby(id: string): LobbyService | undefined {
    return this.server(id).lobby;
  }

  async close(): Promise<void> {
    await this.orphanWatch?.stop();
    await Promise.all([...this.servers.values()].flatMap(({ lobby }) => (lobby ? [lobby.close()] : [])));
    // After the lobbies: their waiting rooms tell held players why first, wherever they are held.
    await this.hub?.close();
    await Promise.all([...this.servers.values()].map(({ runner }) => runner.stop()));
    await Promise.all([...this.servers.values()].map(({ logs }) => logs.close()));
    await Promise.all([...this.servers.values()].map(({ driver }) => driver.close()));
    // After the runners (their last events may enqueue), before the store closes under it.
    await this.notifier.close();
    this.store.close();
    this.releaseLock();
  }

  private server(id: string) {
    const server = this.servers.get(id);
    if (!server) throw new Error(`unknown server ${id}`);
    return server;
  }
}
