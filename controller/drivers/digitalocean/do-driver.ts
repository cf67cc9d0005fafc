import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gameExpectsProxyHeader, type ServerConfig } from '../../config/schema.js';
import { CloudError, messageOf } from '../../errors.js';
import { writeFileDurably } from '../../fs/durable.js';
import type { Logger } from '../../log.js';
import { namesFromSample } from '../../minecraft/player-list.js';
import { RconSession, type RconTarget } from '../../minecraft/rcon.js';
import { statusPing } from '../../minecraft/status-ping.js';
import { HOST_PROPERTIES } from '../../game/host-properties.js';
import type { Observation } from '../../reconcile/types.js';
import type { ArchiveInfo, CopyOptions, Driver, StackUpdate, StepContext } from '../driver.js';
import { resumeSavingIfMarked, savingOffPath } from '../../worlds/saving-pause.js';
import { copyDropletWorld } from './world-copy.js';
import { StackHistoryCache } from '../stack-history.js';
import { findPendingCreates } from './pending-creates.js';
import { changesHistory, markingUpdates } from './stack-changes.js';
import type { DoClient } from './api/client.js';
import { publicIpv4, type Droplet } from './api/types.js';
import { DropletStop, type ServerStackLike } from './droplet-stop.js';
import { DropletWatch } from './droplet-watch.js';
import { loadOrCreateKeys, type ServerKeys } from './keys.js';
import { PROCESS_UP, RemoteGame } from './remote-game.js';
import { SnapshotRecordFile } from './snapshot-record.js';
import type { OwnSnapshot } from './snapshot-names.js';
import type { OwnSnapshotRepo } from '../../store/own-snapshots.js';
import { installationId } from '../../installation-id.js';
import { chosenStartImage, pruneGuard, releaseRestoreHold, spendStartImage, startImagePath } from './start-image.js';
import { SshHost, type SshTarget } from './ssh-host.js';
import { followRemoteLog } from './remote-log.js';
import type { FollowOptions, LogChunk } from '../../logs/types.js';
import { copyPruneSince, markCopySaved, pushChosenCopy, requireChosenCopy, spendSavedCopy } from './world-push.js';
import { formatAddress, playerAddress, type PlayerAddress } from '../../servers/player-address.js';

export interface DigitalOceanDriverDeps {
  server: ServerConfig;
  /** Snapshot names are `<base>-<installation id>-<server>-<unix seconds>` (base: config `snapshotPrefix`, else `ood`). */
  base: string;
  /** The store's record of the server's own snapshots (made by its stops, or adopted). */
  owned: OwnSnapshotRepo;
  dataDir: string;
  api: DoClient;
  /** Opens the server's Pulumi stack with the program built from its keys (`infra/stack.ts`). */
  openStack: (keys: ServerKeys) => Promise<ServerStackLike>;
  log: Logger;
  clock?: () => number;
  /** The shared lobby (top-level `lobby.listen`), which a proxied server's players may reach it through. */
  sharedLobby?: { host: string; port: number } | undefined;
  /** How long a droplet listing is trusted between steps (default 30 s). */
  dropletMaxAgeMs?: number;
}

/** How long a droplet listing may leave out a droplet just created (DigitalOcean gives no bound; seen: a few lists). */
const LISTING_LAG_MS = 60_000;

/** SSH to droplets is as root (DigitalOcean's images, and OoD's, log in as root with keys only). */
const SSH_USER = 'root';

/**
 * The DigitalOcean driver: the host is a droplet `ood-<server>` made by Pulumi from the newest snapshot
 * `<prefix>-<unix seconds>`; the game runs there under supervisord. See README.md beside this file.
 */
export class DigitalOceanDriver implements Driver {
  private readonly watch: DropletWatch;
  private readonly ssh = new SshHost();
  private readonly game: RemoteGame;
  private readonly rcon = new RconSession();
  /** The console's own RCON connection (issue 21): a person's command never shares the loop's probe. */
  private readonly consoleRcon = new RconSession(5_000);
  private readonly saving: RconSession;
  private readonly record: SnapshotRecordFile;
  private readonly stopper: DropletStop;
  private keys: ServerKeys | undefined;
  private stack: Promise<ServerStackLike> | undefined;
  /** Each read spawns the worker and the CLI: read once per change of the stack, for every view. */
  private readonly history = new StackHistoryCache(async () => (await this.openStack()).history());
  /** The RCON password read from (or written to) the droplet's server.properties, per droplet. */
  private rconPassword: { dropletId: number; password: string; address: string } | undefined;
  private current: Droplet | null = null;
  /** When this process first found creates a cut-off update left pending (settleCutOffUpdate). */
  private pendingSeenAt: number | undefined;

  constructor(private readonly deps: DigitalOceanDriverDeps) {
    const { server } = deps;
    const root = join(deps.dataDir, 'servers', server.id);
    // Another installation may run a server with this id on the account: its droplet is never this one's.
    this.watch = new DropletWatch(deps.api, `ood-${server.id}`, deps.dropletMaxAgeMs ?? 30_000, {
      installation: () => installationId(deps.dataDir),
      stackDropletId: () => this.stackDropletId(),
      log: deps.log,
    });
    const provisioned = /"dropletId":(\d+)/.exec(existsSync(this.provisionedFile) ? readFileSync(this.provisionedFile, 'utf8') : '');
    if (provisioned) this.watch.remember(Number(provisioned[1]));
    this.game = new RemoteGame(this.ssh, () => this.sshTarget());
    this.saving = new RconSession(server.deadlines.stopping);
    this.record = new SnapshotRecordFile(join(root, 'snapshot.json'));
    this.stopper = new DropletStop({
      api: deps.api,
      watch: this.watch,
      record: this.record,
      scope: async () => ({ base: deps.base, installation: await installationId(deps.dataDir), server: server.id }),
      owned: deps.owned,
      keep: server.digitalocean.keepSnapshots,
      chosen: () => pruneGuard(deps.dataDir, server.id),
      keepSince: () => copyPruneSince(deps.dataDir, server.id),
      releaseHold: async () => {
        await releaseRestoreHold(deps.dataDir, server.id);
        await spendSavedCopy(deps.dataDir, server.id);
      },
      deadlines: server.deadlines,
      stack: () => this.openStack(),
      clock: deps.clock ?? Date.now,
      log: deps.log,
    });
  }

  address(): string {
    const address = this.playerAddress();
    return address ? formatAddress(address) : '';
  }

  playerAddress(): PlayerAddress | null {
    const droplet = this.current ?? this.watch.peek();
    return playerAddress(this.deps.server, { sharedLobby: this.deps.sharedLobby, dropletIpv4: droplet && publicIpv4(droplet) });
  }

  gameEndpoint(): { host: string; port: number } | null {
    const droplet = this.current ?? this.watch.peek();
    const host = droplet && publicIpv4(droplet);
    return host ? { host, port: this.deps.server.game.port } : null;
  }

  async observe(): Promise<Observation> {
    const droplet = await this.watch.current();
    this.current = droplet;
    if (!droplet) {
      await this.closeConnections();
      return { host: 'absent', power: 'off', game: 'silent', players: null };
    }
    if (droplet.status === 'off') return { host: 'present', machine: 'off', power: 'off', game: 'silent', players: null };
    await this.serverKeys();
    const ip = publicIpv4(droplet);
    if (!ip) return { host: 'present', machine: 'on', power: 'off', game: 'silent', players: null };
    const [process, ping] = await Promise.all([
      this.game.status().catch((err: unknown) => this.debug('Could not ask supervisord over SSH', err)),
      statusPing(ip, this.deps.server.game.port, 1_000, { proxyProtocol: gameExpectsProxyHeader(this.deps.server) }).catch((err: unknown) => this.debug('Game did not answer a status ping', err)),
    ]);
    // Without SSH (a droplet still booting, a dropped connection) only an answering ping tells; a silent
    // one says nothing: the game may still run, so it is unknown, never "off" (DESIGN: a failed probe counts as present).
    const power = process ? (PROCESS_UP.has(process) ? 'on' : 'off') : ping ? 'on' : 'unknown';
    if (power !== 'on') return { host: 'present', machine: 'on', power, game: 'silent', players: null };
    // The game runs on this droplet, however it got started: a "saved" record no longer speaks for it.
    if (await this.record.forget(droplet.id)) this.deps.log.warn({ droplet: droplet.id }, 'Forgot the snapshot record: the game runs on the droplet again');
    if (!ping) return { host: 'present', machine: 'on', power, game: 'silent', players: null };
    try {
      // Names that do not split by the count are told apart by the ping's sample, or not at all.
      return { host: 'present', machine: 'on', power, game: 'answering', players: namesFromSample(await this.rcon.list(await this.rconTarget(droplet)), ping.players.names) };
    } catch (err) {
      this.debug('Could not list players over RCON; counting from the status ping', err);
      return { host: 'present', machine: 'on', power, game: 'answering', players: ping.players };
    }
  }

  async provision(ctx: StepContext): Promise<string> {
    const settled = await this.settleCutOffUpdate(ctx.why);
    const existing = await this.watch.current(true);
    if (existing) return `Droplet ${existing.id} (${existing.status}) already exists; not creating another${settled}${await this.finishStack(existing, ctx.why)}`;
    // A listing can leave out a droplet the stack records (issue 17 item 8): asked for by id before any create.
    const recorded = await this.stackDropletId();
    let refreshed = '';
    if (recorded !== null) {
      const found = await this.deps.api.getDroplet(recorded);
      if (found && found.status !== 'archive') {
        this.watch.remember(found.id);
        this.current = found;
        return `Droplet ${found.id} (${found.status}) recorded by the stack exists though the listing of ood-${this.deps.server.id} left it out; not creating another${settled}${await this.finishStack(found, ctx.why)}`;
      }
      // Deleted outside OoD: the state still holds it, and an `up` would do nothing (item 10).
      await (await this.openStack()).refresh(`ood: ${ctx.why} (droplet ${recorded} recorded by the stack no longer exists)`);
      refreshed = `Droplet ${recorded} recorded by the stack no longer exists; refreshed the stack. `;
      this.deps.log.warn({ droplet: recorded }, `Droplet ${recorded} recorded by the stack no longer exists; refreshed the stack`);
    }
    // Only a snapshot proven the server's own, newest by DigitalOcean's clock (snapshot-names.ts).
    const own = await this.stopper.ownSnapshots();
    // Image builds' hook: a start image chosen by `ood image build`, if recorded, wins (start-image.ts).
    const newest = (await this.chosenStartImage()) ?? own[0];
    // A chosen copy (world-push.ts) is pushed at boot: a missing one fails before any droplet is made.
    requireChosenCopy(this.deps.dataDir, this.deps.server.id);
    if (!newest) {
      throw new CloudError(
        `No snapshot of ${this.deps.server.id}'s own (named ${this.deps.base}-${await installationId(this.deps.dataDir)}-${this.deps.server.id}-<unix seconds>, or adopted) exists in this DigitalOcean account, so there is nothing to start ` +
          `it from: build the image first (\`ood image build\`), or claim a snapshot you made by hand with \`ood snapshots adopt ${this.deps.server.id} <name or id>\`, then press Start again`,
        false,
      );
    }
    const stack = await this.openStack();
    await stack.setConfig({ 'ood:image': { value: newest.id } });
    const { outputs } = await stack.up(`ood: ${ctx.why}`);
    const made = Number(outputs.dropletId);
    // Only a droplet that did not exist before the update is one it created: the journal never says otherwise.
    if (!(made > 0) || made === recorded) {
      throw new CloudError(`The update of stack ood-${this.deps.server.id} made no new droplet (its outputs name ${String(outputs.dropletId)}); look at \`pulumi stack --stack ood-${this.deps.server.id}\` and press Start again`, true);
    }
    // Listings lag behind a create: the droplet just made is looked up by id if the list leaves it out.
    this.watch.remember(made);
    // Seen now, so the address players are told is known as the server moves on to booting.
    this.current = await this.watch.current(true);
    if (this.current?.id !== made) {
      throw new CloudError(`The update of stack ood-${this.deps.server.id} reported droplet ${made}, but DigitalOcean ${this.current ? `lists droplet ${this.current.id} instead` : 'does not find it'}; OoD looks again before it makes another`, true);
    }
    await writeFileDurably(this.provisionedFile, `${JSON.stringify({ dropletId: made })}\n`);
    await spendStartImage(this.deps.dataDir, this.deps.server.id, this.current.image.id);
    return `${refreshed}Created droplet ${made} at ${String(outputs.ipv4)} from ${newest.name} (snapshot ${newest.id})`;
  }

  async boot(): Promise<string> {
    const droplet = await this.watch.current(true);
    if (!droplet) throw new CloudError(`Droplet ood-${this.deps.server.id} is gone; it cannot be booted`, true);
    this.current = droplet;
    await this.serverKeys();
    // Invariant 7: before the droplet can change again, its snapshot record stops speaking for it.
    await this.record.forget(droplet.id);
    // Made from the chosen start image (a provision cut off before it could say so): the choice is spent.
    await spendStartImage(this.deps.dataDir, this.deps.server.id, droplet.image.id);
    let note = '';
    if (droplet.status === 'off') {
      const action = await this.deps.api.dropletAction(droplet.id, { type: 'power_on' });
      await this.deps.api.waitForAction(action.id, { timeoutMs: this.deps.server.deadlines.booting });
      this.watch.stale();
      note = 'Powered the droplet on; ';
    }
    note += await this.finishStack(droplet, 'boot');
    // Never a game on a droplet the stack's firewall leaves open (SSH to the world, RCON with an empty server-ip).
    await this.requireFirewall(droplet.id);
    await this.ssh.waitReady(this.sshTarget(), Math.min(this.deps.server.deadlines.booting, 180_000));
    // A chosen copy (an upload, a restore of a copy) replaces the world before the game starts on it.
    note += await pushChosenCopy({ dataDir: this.deps.dataDir, server: this.deps.server.id, dropletId: droplet.id, ssh: this.ssh, target: this.sshTarget(), game: this.game, timeoutMs: this.deps.server.deadlines.booting, stoppingMs: this.deps.server.deadlines.stopping });
    const state = await this.game.status();
    if (PROCESS_UP.has(state)) return `${note}The game already runs on droplet ${droplet.id} (supervisord: ${state})`;
    const { port, rconPort } = this.deps.server.game;
    const password = randomBytes(18).toString('base64url');
    await this.game.writeProperties({ ...HOST_PROPERTIES, 'enable-rcon': 'true', 'rcon.port': String(rconPort), 'rcon.password': password, 'server-port': String(port) });
    this.rconPassword = undefined;
    await this.game.start();
    return `${note}Started the game on droplet ${droplet.id} (${publicIpv4(droplet)}) with a new RCON password`;
  }

  async say(message: string): Promise<void> {
    await this.rcon.send(await this.rconTarget(), `say ${message}`);
  }

  async stopGame(reason: string): Promise<string> {
    let saved: string;
    try {
      const target = await this.rconTarget();
      await this.rcon.send(target, `say Server stopping: ${reason}. Saving the world.`);
      const reply = await this.saving.send(target, 'save-all flush').finally(() => this.saving.close());
      if (!/Saved the game/i.test(reply)) throw new CloudError(`The game did not confirm the save (it said ${JSON.stringify(reply.slice(0, 120))})`, true);
      saved = 'Saved the world over RCON';
    } catch (err) {
      // Without RCON the stop itself still saves: supervisord's SIGTERM makes Minecraft save on its way out.
      this.deps.log.warn({ err: messageOf(err) }, 'Could not save over RCON; stopping the game with SIGTERM, which saves');
      saved = `Could not save over RCON (${messageOf(err)})`;
    } finally {
      await this.rcon.close();
    }
    // supervisord sends SIGTERM and waits for the exit (stopwaitsecs): the game saves again on its way out.
    await this.game.stop(this.deps.server.deadlines.stopping);
    return `${saved}; stopped the game (supervisorctl stop minecraft)`;
  }

  async terminate(): Promise<string> {
    await this.game.signal('TERM');
    return 'Sent SIGTERM to the game (supervisorctl signal TERM minecraft)';
  }

  async kill(): Promise<string> {
    await this.game.signal('KILL');
    return 'Sent SIGKILL to the game (supervisorctl signal KILL minecraft)';
  }

  async powerDown(): Promise<string> {
    await this.closeConnections();
    return this.stopper.powerDown();
  }

  async snapshot(): Promise<string> {
    const done = await this.stopper.snapshot();
    // That droplet ran a pushed copy: its snapshot now holds what was played on it, never the copy again.
    await markCopySaved(this.deps.dataDir, this.deps.server.id, (await this.record.read()).saved?.dropletId);
    return done;
  }

  async destroy(ctx: StepContext): Promise<string> {
    await this.closeConnections();
    // From here the stack may end up half destroyed (say the droplet's deletion fails): should the
    // droplet run again, its stack must be brought back whole first (finishStack).
    await rm(this.provisionedFile, { force: true });
    await markCopySaved(this.deps.dataDir, this.deps.server.id, (await this.record.read()).saved?.dropletId);
    return this.stopper.destroy(`ood: ${ctx.why}`);
  }

  /** A copy of the world off the droplet over SSH (world-copy.ts). */
  copyWorld(options: CopyOptions): Promise<string> {
    const { dataDir, server, log } = this.deps;
    return copyDropletWorld(
      { ssh: this.ssh, target: () => this.sshTarget(), game: this.game, send: (command, long) => this.console(command, long), dataDir, server: server.id, log, clock: this.deps.clock ?? Date.now },
      options,
    );
  }

  resumeSaving(observation: Observation): Promise<string | null> {
    return resumeSavingIfMarked(savingOffPath(this.deps.dataDir, this.deps.server.id), observation, (command) => this.console(command));
  }

  /** One RCON command; `long` ones (save-all flush) on the session whose timeout is deadlines.stopping. */
  private async console(command: string, long = false): Promise<string> {
    const target = await this.rconTarget();
    return long ? this.saving.send(target, command).finally(() => this.saving.close()) : this.rcon.send(target, command);
  }

  async archives(): Promise<ArchiveInfo[]> {
    const own = await this.stopper.ownSnapshots();
    return own.map((s) => ({ name: s.name, ts: s.ts, bytes: Math.round(s.sizeGigabytes * 1024 ** 3) }));
  }

  /** The server's own snapshots as listed now, newest first, with their ids (the world versions list). */
  ownSnapshots(): Promise<OwnSnapshot[]> {
    return this.stopper.ownSnapshots();
  }

  /** Claims a listed snapshot as this server's own (`ood snapshots adopt`; droplet-stop.ts). */
  adoptSnapshot(ref: string): Promise<{ id: string; name: string }> {
    return this.stopper.adopt(ref);
  }

  stackHistory(): Promise<StackUpdate[]> {
    return this.history.get();
  }

  /** The droplet the stack's state records, or null: for the orphan watch and finishing a cut-off update. */
  async stackDropletId(): Promise<number | null> {
    return (await this.openStack()).dropletId();
  }

  async consoleCommand(command: string): Promise<string> {
    return this.consoleRcon.send(await this.rconTarget(), command);
  }

  followLog(options: FollowOptions): AsyncIterable<LogChunk> {
    return followRemoteLog(this.ssh, () => this.sshTarget(), options);
  }

  async close(): Promise<void> {
    await this.closeConnections();
  }

  private async closeConnections(): Promise<void> {
    this.rconPassword = undefined;
    await Promise.all([this.rcon.close(), this.saving.close(), this.consoleRcon.close(), this.ssh.close()]);
  }

  /**
   * An update cut off after the droplet was made (a kill -9 of the controller) may have left its
   * firewall or DNS record out, and the loop moves on as soon as the droplet exists. So until an
   * update is recorded as finished for this droplet, run it again: safe when the stack owns the
   * droplet, since an update never replaces it (infra/program.ts, ignoreChanges).
   */
  private async finishStack(droplet: Droplet, why: string): Promise<string> {
    const settled = await this.settleCutOffUpdate(why);
    if (settled) this.deps.log.info({ droplet: droplet.id }, `Before finishing the stack${settled}`);
    if (existsSync(this.provisionedFile) && readFileSync(this.provisionedFile, 'utf8').includes(`"dropletId":${droplet.id}`)) return '';
    const recorded = await this.stackDropletId();
    if (recorded !== droplet.id) {
      // An update would make a droplet of its own beside this one, and the stack's firewall does not cover it.
      throw new CloudError(
        `Droplet ${droplet.id} is tagged ood-${this.deps.server.id}, but stack ood-${this.deps.server.id} records ${recorded === null ? 'no droplet' : `droplet ${recorded}`}, so the stack's firewall does not cover it; ` +
          'OoD will not start the game on it. Snapshot it and delete it in the DigitalOcean console (or look for a second droplet), then press Start',
        false,
      );
    }
    await (await this.openStack()).up(`ood: ${why} (finishing an update that was cut off)`);
    await writeFileDurably(this.provisionedFile, `${JSON.stringify({ dropletId: droplet.id })}\n`);
    return '; finished the stack update that was cut off (firewall, DNS)';
  }

  /** Fails unless the stack's firewall `ood-<server>` lists the droplet, as DigitalOcean answers now. */
  private async requireFirewall(dropletId: number): Promise<void> {
    const name = `ood-${this.deps.server.id}`;
    const firewalls = (await this.deps.api.listFirewalls()).filter((f) => f.name === name);
    if (firewalls.some((f) => f.droplet_ids?.includes(dropletId))) return;
    throw new CloudError(
      `Firewall ${name} ${firewalls.length === 0 ? 'does not exist' : `does not list droplet ${dropletId}`}, so the droplet is open to the world; ` +
        'OoD will not start the game on it. Look at the firewall in the DigitalOcean console (was the droplet taken off it?); a Stop and a Start make a new droplet with its firewall',
      true,
    );
  }

  /** Exists while an update of OoD's may have been cut off (see `markingUpdates`). */
  private get cutOffFile(): string {
    return join(this.deps.dataDir, 'servers', this.deps.server.id, 'stack-update.json');
  }

  /**
   * After an update cut off by a kill, the state may hold creates the engine never heard back about:
   * the real engine goes on past them and would make a second droplet beside the first. Each is looked
   * up in DigitalOcean and adopted into the state, or dropped when it made nothing.
   */
  private async settleCutOffUpdate(why: string): Promise<string> {
    if (!existsSync(this.cutOffFile)) return '';
    const stack = await this.openStack();
    const pending = await stack.pendingCreates();
    if (pending.length > 0) {
      // The kill came before this process's first look, and the create before the kill: a listing that
      // still leaves the droplet out this long after that look is no longer lagging.
      this.pendingSeenAt ??= performance.now();
      const mayLag = performance.now() - this.pendingSeenAt < LISTING_LAG_MS;
      const found = await findPendingCreates(pending, this.deps.api, this.deps.server.id, this.deps.log, mayLag);
      await stack.settlePendingCreates(found, `ood: ${why} (settling what a cut-off update left pending)`);
      this.watch.stale();
    }
    await rm(this.cutOffFile, { force: true });
    this.pendingSeenAt = undefined;
    return pending.length > 0 ? `; settled ${pending.length} create(s) a cut-off update left pending` : '';
  }

  /** The start image `ood image build` chose for the next start, if one is recorded; it must still be listed. */
  private async chosenStartImage(): Promise<{ id: string; name: string } | undefined> {
    const chosen = chosenStartImage(this.deps.dataDir, this.deps.server.id);
    if (!chosen) return undefined;
    const listed = (await this.deps.api.listSnapshots()).find((s) => s.id === chosen.snapshotId);
    if (!listed) {
      throw new CloudError(
        chosen.source === 'restore'
          ? `The snapshot ${chosen.name} (id ${chosen.snapshotId}) restored by ${chosen.by ?? 'an admin'} is not listed in DigitalOcean: ` +
              `restore another version (\`ood worlds ${this.deps.server.id}\`), or delete ${startImagePath(this.deps.dataDir, this.deps.server.id)} to start from the newest session snapshot`
          : `The start image chosen by \`ood image build\` (${chosen.name}, snapshot ${chosen.snapshotId}) is not listed in DigitalOcean: ` +
            `build again, or delete ${startImagePath(this.deps.dataDir, this.deps.server.id)} to start from the newest session snapshot`,
        false,
      );
    }
    return { id: listed.id, name: listed.name };
  }

  private get provisionedFile(): string {
    return join(this.deps.dataDir, 'servers', this.deps.server.id, 'provisioned.json');
  }

  private openStack(): Promise<ServerStackLike> {
    this.stack ??= this.serverKeys().then(async (keys) => changesHistory(markingUpdates(await this.deps.openStack(keys), this.cutOffFile), this.history));
    this.stack.catch(() => (this.stack = undefined));
    return this.stack;
  }

  private async serverKeys(): Promise<ServerKeys> {
    this.keys ??= await loadOrCreateKeys(join(this.deps.dataDir, 'servers', this.deps.server.id, 'ssh'), this.deps.server.id);
    return this.keys;
  }

  private sshTarget(): SshTarget {
    const droplet = this.current ?? this.watch.peek();
    const host = droplet && publicIpv4(droplet);
    if (!host || !this.keys) throw new CloudError(`Droplet ood-${this.deps.server.id} has no address yet`, true);
    return { host, port: 22, username: SSH_USER, privateKey: this.keys.clientPrivate, hostKey: this.keys.hostPublic };
  }

  /** RCON through the SSH tunnel, to where server.properties says it listens, with the password written there. */
  private async rconTarget(droplet: Droplet | null = this.current): Promise<RconTarget> {
    if (!droplet) throw new CloudError(`Droplet ood-${this.deps.server.id} is gone`, true);
    await this.serverKeys();
    if (this.rconPassword?.dropletId !== droplet.id) {
      const props = await this.game.readProperties();
      const password = props.get('rcon.password');
      if (props.get('enable-rcon') !== 'true' || !password) throw new CloudError(`RCON is not enabled in server.properties on droplet ${droplet.id}`, true);
      this.rconPassword = { dropletId: droplet.id, password, address: props.get('server-ip') || '127.0.0.1' };
    }
    const local = await this.ssh.forward(this.sshTarget(), this.rconPassword.address, this.deps.server.game.rconPort);
    return { ...local, password: this.rconPassword.password };
  }

  private debug(message: string, err: unknown): undefined {
    this.deps.log.debug({ err: messageOf(err) }, message);
    return undefined;
  }
}
