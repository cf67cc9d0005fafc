import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gameExpectsProxyHeader, gameListenPort, type ServerConfig } from '../../config/schema.js';
import { ArchiveDamagedError, ArchiveError, HostError, messageOf } from '../../errors.js';
import { fsyncPath, writeFileDurably } from '../../fs/durable.js';
import type { Logger } from '../../log.js';
import { updateProperties, parseProperties } from '../../minecraft/properties.js';
import { namesFromSample } from '../../minecraft/player-list.js';
import { RconSession, type RconTarget } from '../../minecraft/rcon.js';
import { followFile } from '../../logs/local-follow.js';
import type { FollowOptions, LogChunk } from '../../logs/types.js';
import { statusPing } from '../../minecraft/status-ping.js';
import { gameCommand, takesPortFromLobby } from '../../game/command.js';
import { HOST_PROPERTIES } from '../../game/host-properties.js';
import type { Observation } from '../../reconcile/types.js';
import type { ArchiveInfo, CopyOptions, Driver } from '../driver.js';
import { copyHostDir } from './host-copy.js';
import { resumeSavingIfMarked, savingOffPath } from '../../worlds/saving-pause.js';
import { archivesToPrune, chooseArchive, readChosenArchive, readStandingChoice, spendChosenArchive, startCandidates } from '../../worlds/chosen-archive.js';
import { archiveName, type ArchiveFacts, extractArchive, listArchives, nextArchiveTs, readArchive, removePartials, writeArchive } from './archive.js';
import { checkGamePorts, type GamePort } from './port-check.js';
import { HANDOVER_ENV, HANDOVER_FILE, waitForHandover } from './port-handover.js';
import { findHostProcesses, killAndWait, observeHostProcesses, signalAll, spawnHostProcess } from './processes.js';
import { formatAddress, playerAddress, type AddressFacts, type PlayerAddress } from '../../servers/player-address.js';

/** Written into the working directory; control files never go into archives. */
const HOST_FILE = '.ood-host.json';
const ARCHIVED_FILE = '.ood-archived.json';
const LOG_FILE = '.ood-game.log';

interface HostRecord {
  server: string;
  restoredFrom: string | null;
  createdAt: string;
}
interface ArchivedRecord {
  archive: string;
  sha256: string;
  entries: number;
  bytes: number;
}

/**
 * The local driver: the "host" is a working directory `<dataDir>/servers/<id>/host` and the game's
 * process; the "snapshot" an archive `ood-<ts>.tar.gz` beside it in `archives/`.
 */
/** What the local driver tells others about the game's port. */
export interface LocalDriverHooks {
  /** Called just before the game is started: whoever holds the game's port (the lobby) lets it go. */
  beforeBoot?: () => Promise<void>;
}

export class LocalDriver implements Driver {
  readonly root: string;
  readonly hostDir: string;
  readonly archiveDir: string;
  readonly corruptDir: string;
  private readonly rcon = new RconSession();
  /** The console's own RCON connection (issue 21): a person's command never shares the loop's probe. */
  private readonly consoleRcon = new RconSession(5_000);
  private readonly saving: RconSession;
  private rconCache: { stamp: string; target: RconTarget } | undefined;
  private readonly dataDir: string;

  constructor(
    private readonly server: ServerConfig,
    dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly hooks: LocalDriverHooks = {},
    /** The shared lobby (top-level `lobby.listen`), which a proxied server's players may reach it through. */
    private readonly addressFacts: Pick<AddressFacts, 'sharedLobby'> = {},
  ) {
    this.dataDir = dataDir;
    this.root = join(dataDir, 'servers', server.id);
    this.hostDir = join(this.root, 'host');
    this.archiveDir = join(this.root, 'archives');
    this.corruptDir = join(this.archiveDir, 'corrupt');
    this.saving = new RconSession(server.deadlines.stopping);
  }

  address(): string {
    return formatAddress(this.playerAddress());
  }

  playerAddress(): PlayerAddress {
    // A local server's address never waits for a host: local.publicHost always names one.
    return playerAddress(this.server, this.addressFacts)!;
  }

  gameEndpoint(): { host: string; port: number } {
    return { host: '127.0.0.1', port: gameListenPort(this.server) };
  }

  async observe(): Promise<Observation> {
    const host = existsSync(this.hostDir) ? 'present' : 'absent';
    const pids = await observeHostProcesses(this.hostDir, host === 'present');
    if (pids.length === 0) return { host, power: 'off', game: 'silent', players: null };
    // A game runs here, however it got started: any "saved" record no longer speaks for this host.
    await this.forgetArchived('the game is running on this host');
    // RCON first, on the connection kept open between ticks: a game that lists its players answers
    // (vanilla and the bundled game open RCON only once they are ready). The status ping, a new
    // connection each time, is the fallback that still counts players when RCON is broken.
    try {
      const list = await this.rcon.list(await this.rconTarget());
      if (list.unsplit === null) return { host, power: 'on', game: 'answering', players: list.players };
      // Names that do not split by the count: the status ping's sample may tell them apart.
      const sample = await statusPing('127.0.0.1', gameListenPort(this.server), 1_000, { proxyProtocol: gameExpectsProxyHeader(this.server) }).then(
        (status) => status.players.names,
        (err: unknown) => (this.log.debug({ err: messageOf(err) }, 'Game did not answer a status ping; counting players without names'), []),
      );
      return { host, power: 'on', game: 'answering', players: namesFromSample(list, sample) };
    } catch (err) {
      this.log.debug({ err: messageOf(err) }, 'Could not list players over RCON; trying a status ping');
    }
    try {
      const { players } = await statusPing('127.0.0.1', gameListenPort(this.server), 1_000, { proxyProtocol: gameExpectsProxyHeader(this.server) });
      // The ping's count stands in; it lacks names past the sample but is a real count.
      return { host, power: 'on', game: 'answering', players };
    } catch (err) {
      this.log.debug({ err: messageOf(err) }, 'Game did not answer a status ping');
      return { host, power: 'on', game: 'silent', players: null };
    }
  }

  async provision(): Promise<string> {
    if (existsSync(this.hostDir)) return 'The working directory already exists';
    await mkdir(this.root, { recursive: true });
    await this.removeLeftovers('staging-', 'trash-');
    const { staging, restoredFrom, notes } = await this.restore();
    const propsPath = join(staging, 'server.properties');
    const props = existsSync(propsPath) ? await readFile(propsPath, 'utf8') : '';
    await writeFile(
      propsPath,
      updateProperties(props, {
        ...HOST_PROPERTIES,
        // Behind the lobby in proxy mode, the game listens on a port of its own.
        'server-port': String(gameListenPort(this.server)),
        // and only on loopback, so nobody reaches it around the lobby (its caps, its PROXY header).
        ...(this.server.lobby.mode === 'proxy' ? { 'server-ip': '127.0.0.1' } : {}),
        'enable-rcon': 'true',
        'rcon.port': String(this.server.game.rconPort),
        // A new RCON password per host; it lives only in the host's own server.properties.
        'rcon.password': randomBytes(18).toString('base64url'),
      }),
      { mode: 0o600 },
    );
    const record: HostRecord = { server: this.server.id, restoredFrom, createdAt: new Date(this.clock()).toISOString() };
    await writeFile(join(staging, HOST_FILE), JSON.stringify(record));
    await rename(staging, this.hostDir);
    return [...notes, restoredFrom ? `Restored ${restoredFrom}` : 'Started a fresh world (no archive yet)'].join('; ');
  }

  /**
   * The archive an admin chose (a restore), else the newest good archive, unpacked into a new staging
   * directory (chosen-archive.ts `startCandidates` decides which). Only an archive whose own bytes
   * are damaged is set aside (in `archives/corrupt/`) and the one before tried; any other failure (a
   * full disk, EIO, an entry tar refuses) fails the step with every archive left where it was, since
   * falling back then would quietly roll the world back. Each attempt gets a staging directory of its
   * own: a failed unpack may still have writes in flight into the one it had.
   */
  private async restore(): Promise<{ staging: string; restoredFrom: string | null; notes: string[] }> {
    const notes: string[] = [];
    const all = await listArchives(this.archiveDir);
    const chosen = readStandingChoice(this.root);
    const archives = startCandidates(all, chosen);
    if (chosen && archives.length === 0) {
      throw new HostError(
        `Server ${this.server.id} was restored to ${chosen.archive} (by ${chosen.by}), but that archive is not listed in ${this.archiveDir}; ` +
          'OoD will not start another world instead. Restore another version (`ood worlds`, `ood restore`), or put the archive back',
        false,
      );
    }
    for (const archive of archives) {
      const staging = await mkdtemp(join(this.root, 'staging-'));
      try {
        await extractArchive(join(this.archiveDir, archive.name), staging);
        return { staging, restoredFrom: archive.name, notes };
      } catch (err) {
        await this.discard(staging);
        if (!(err instanceof ArchiveDamagedError)) throw err;
        await this.setAside(archive.name, err.message);
        if (chosen) throw new HostError(`The archive ${archive.name} chosen by a restore is damaged (${err.message}); it was set aside in archives/corrupt/. Restore another version`, false, { cause: err });
        notes.push(`Set ${archive.name} aside in archives/corrupt/: ${err.message.replace(/^Archive \S+ is damaged: /, 'damaged: ')}`);
      }
    }
    const corrupt = existsSync(this.corruptDir) ? await readdir(this.corruptDir) : [];
    if (corrupt.length > 0) {
      throw new HostError(
        `Server ${this.server.id} has no good archive, only damaged ones in ${this.corruptDir}; ` +
          'OoD will not start a fresh world over them. Repair or remove them, then start again',
        false,
      );
    }
    const staging = await mkdtemp(join(this.root, 'staging-'));
    if (this.server.local.template) await cp(this.server.local.template, staging, { recursive: true });
    return { staging, restoredFrom: null, notes };
  }

  async boot(): Promise<string> {
    const running = await findHostProcesses(this.hostDir);
    if (running.length > 0) return `The game already runs (pid ${running.join(', ')})`;
    // Invariant 7: the game is about to change this host, so a record saying it was saved stops being
    // true now, durably, before the first change (a resume from failed after a failed removal boots here).
    await this.forgetArchived('the game is starting on this host');
    const heldByLobby = await checkGamePorts(await this.gamePorts(), (port) => this.server.lobby.mode === 'wake' && port === this.server.game.port);
    const command = gameCommand(this.server);
    const logFile = join(this.hostDir, LOG_FILE);
    if (!heldByLobby.includes(this.server.game.port) || !takesPortFromLobby(command)) {
      await this.hooks.beforeBoot?.();
      const pid = await spawnHostProcess({ command, hostDir: this.hostDir, logFile, env: this.env });
      return `Started the game (pid ${pid}); its output goes to ${logFile}`;
    }
    // The bundled game takes the port from the lobby as it binds (see port-handover.ts): the lobby
    // keeps answering status pings while the game loads, and lets go only when the game asks.
    const signal = join(this.hostDir, HANDOVER_FILE);
    await rm(signal, { force: true });
    const pid = await spawnHostProcess({ command, hostDir: this.hostDir, logFile, env: { ...this.env, [HANDOVER_ENV]: signal } });
    const started = performance.now();
    // The game asks within seconds of loading flying-squid; a minute bounds a game stuck before that
    // (then it finds the port free when it gets there), and the time a stop request waits on this step.
    const outcome = await waitForHandover(pid, signal, Math.min(this.server.deadlines.booting, 60_000));
    await this.hooks.beforeBoot?.();
    const waited = `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const how = { asked: `the lobby answered on its port for ${waited} until it was about to listen`, exited: `it exited after ${waited}, before it listened`, 'timed out': `it did not ask for its port within ${waited}; the lobby let go of it anyway` }[outcome];
    return `Started the game (pid ${pid}); ${how}; its output goes to ${logFile}`;
  }

  /** The ports the game will listen on, and where, as its server.properties tells it. */
  private async gamePorts(): Promise<GamePort[]> {
    const props = parseProperties(await readFile(join(this.hostDir, 'server.properties'), 'utf8'));
    const host = props.get('server-ip') || undefined;
    const ports: GamePort[] = [{ what: 'game', host, port: Number(props.get('server-port') || gameListenPort(this.server)) }];
    if (props.get('enable-rcon') === 'true') ports.push({ what: 'RCON', host, port: Number(props.get('rcon.port') || this.server.game.rconPort) });
    return ports;
  }

  async say(message: string): Promise<void> {
    await this.rcon.send(await this.rconTarget(), `say ${message}`);
  }

  async stopGame(reason: string): Promise<string> {
    const target = await this.rconTarget();
    await this.rcon.send(target, `say Server stopping: ${reason}. Saving the world.`);
    // Saving a large world takes longer than any ordinary command: its own connection and timeout.
    const saved = await this.saving.send(target, 'save-all flush').finally(() => this.saving.close());
    if (!/Saved the game/i.test(saved)) {
      throw new HostError(`The game did not confirm the save (it said ${JSON.stringify(saved.slice(0, 120))})`, true);
    }
    await this.rcon.send(target, 'stop');
    await this.rcon.close();
    return 'Saved the world and asked the game to stop';
  }

  async terminate(): Promise<string> {
    const sent = signalAll(await findHostProcesses(this.hostDir), 'SIGTERM');
    return sent.length ? `Sent SIGTERM to pid ${sent.join(', ')}` : 'No game process was left';
  }

  async kill(): Promise<string> {
    // Waits for the end, not only the signal: the next step may boot a game on the same port.
    const { sent, left } = await killAndWait(await findHostProcesses(this.hostDir));
    if (left.length > 0) return `Sent SIGKILL to pid ${sent.join(', ')}; pid ${left.join(', ')} had not ended 10 s later`;
    return sent.length ? `Sent SIGKILL to pid ${sent.join(', ')}` : 'No game process was left';
  }

  /** A copy of the working directory while the game runs (backups.enabled: true on a local server; host-copy.ts). */
  copyWorld(options: CopyOptions): Promise<string> {
    return copyHostDir({ hostDir: this.hostDir, dataDir: this.dataDir, server: this.server.id, send: (command, long) => this.console(command, long), clock: this.clock }, options);
  }

  resumeSaving(observation: Observation): Promise<string | null> {
    return resumeSavingIfMarked(savingOffPath(this.dataDir, this.server.id), observation, (command) => this.console(command));
  }

  private async console(command: string, long = false): Promise<string> {
    const target = await this.rconTarget();
    return long ? this.saving.send(target, command).finally(() => this.saving.close()) : this.rcon.send(target, command);
  }

  /** A working directory is not kept in a Pulumi stack. */
  async stackHistory(): Promise<null> {
    return null;
  }

  /** A working directory has no machine of its own to power down; decide never asks (no `machine`). */
  async powerDown(): Promise<string> {
    return 'Nothing to power down: the host is a directory on this machine';
  }

  async snapshot(): Promise<string> {
    // After a crash the record may be all that is left of a finished snapshot: read it back in full.
    const running = await findHostProcesses(this.hostDir);
    if (running.length > 0) throw new HostError(`The game still runs (pid ${running.join(', ')}); not archiving a live world`, false);
    const confirmed = await this.confirmedArchive('read back');
    if (confirmed) return `Already archived as ${confirmed.archive}`;
    await removePartials(this.archiveDir);
    const name = archiveName(nextArchiveTs(this.clock(), await listArchives(this.archiveDir)));
    const facts = await writeArchive(this.hostDir, join(this.archiveDir, name));
    if (!(await listArchives(this.archiveDir)).some((a) => a.name === name)) {
      throw new ArchiveError(`Archive ${name} was written but is not listed in ${this.archiveDir}`, true);
    }
    const record: ArchivedRecord = { archive: name, sha256: facts.sha256, entries: facts.entries, bytes: facts.bytes };
    await writeFileDurably(join(this.hostDir, ARCHIVED_FILE), JSON.stringify(record));
    return `Archived to ${name} (${facts.entries} entries, ${(facts.bytes / 1e6).toFixed(1)} MB, sha256 ${facts.sha256.slice(0, 12)})`;
  }

  /**
   * The archive this host was saved to, when it is listed with the size `snapshot` verified, and, with
   * 'read back', reads back with the same sha256 and entry count. `destroy` runs right after `snapshot`
   * read the whole file; it checks the listing rather than reading a large world a second time.
   */
  private async confirmedArchive(depth: 'listed' | 'read back'): Promise<ArchivedRecord | undefined> {
    const record = await this.archivedRecord();
    if (!record) return undefined;
    const listed = (await listArchives(this.archiveDir)).find((a) => a.name === record.archive);
    if (!listed || listed.bytes !== record.bytes) return undefined;
    if (depth === 'listed') return record;
    let facts: ArchiveFacts | undefined;
    try {
      facts = await readArchive(join(this.archiveDir, record.archive));
    } catch (err) {
      // Only damage means "archive again"; a read that failed for I/O is the step's error, retried.
      if (!(err instanceof ArchiveDamagedError)) throw err;
    }
    if (facts && facts.sha256 === record.sha256 && facts.entries === record.entries) return record;
    // Damaged since it was written: never restore it; the host is still here to archive again.
    await this.setAside(record.archive, 'it no longer matches what was written');
    return undefined;
  }

  /** What provision wrote into the host (which archive it was unpacked from), or undefined when unreadable. */
  private async hostRecord(): Promise<HostRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.hostDir, HOST_FILE), 'utf8')) as HostRecord;
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'Could not read the host record; a restore choice stays until a host made from it is saved');
      return undefined;
    }
  }

  /** The record `snapshot` left, or undefined when there is none or it is unreadable (then: not saved). */
  private async archivedRecord(): Promise<ArchivedRecord | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.hostDir, ARCHIVED_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const record = JSON.parse(text) as Partial<ArchivedRecord>;
      if (typeof record.archive === 'string' && typeof record.sha256 === 'string' && typeof record.bytes === 'number' && typeof record.entries === 'number') {
        return record as ArchivedRecord;
      }
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'Could not parse the archived record');
    }
    this.log.warn({ path: join(this.hostDir, ARCHIVED_FILE) }, 'Found an unreadable archived record; the host counts as not saved');
    return undefined;
  }

  /** Invalidates the "saved" record of this host, durably, before anything may change the host. */
  private async forgetArchived(why: string): Promise<void> {
    const path = join(this.hostDir, ARCHIVED_FILE);
    if (!existsSync(path)) return;
    await rm(path, { force: true });
    await fsyncPath(this.hostDir);
    this.log.info({ why }, 'Forgot the archived record of this host');
  }

  async destroy(): Promise<string> {
    const notes: string[] = [];
    if (existsSync(this.hostDir)) {
      const running = await findHostProcesses(this.hostDir);
      if (running.length > 0) throw new HostError(`The game still runs (pid ${running.join(', ')}); not removing its host`, false);
      const confirmed = await this.confirmedArchive('listed');
      if (!confirmed) throw new HostError(`No confirmed archive of ${this.hostDir} (its archive is missing or changed size); not removing it`, false);
      const restoredFrom = (await this.hostRecord())?.restoredFrom;
      // A host started from a restore's choice is saved again: from now on the choice only holds the
      // prune below (chosen-archive.ts `savedAgain`), durably before the host goes.
      const chosen = readStandingChoice(this.root);
      if (chosen && restoredFrom === chosen.archive) await chooseArchive(this.root, { ...chosen, savedAgain: confirmed.archive });
      // Rename first: the host is gone in one step, and a crash mid-removal leaves only trash.
      await rename(this.hostDir, join(this.root, `trash-${this.clock()}`));
      notes.push(`Removed the working directory (saved as ${confirmed.archive})`);
    }
    await this.removeLeftovers('trash-');
    const pruned = await this.prune();
    if (pruned.length) notes.push(`Pruned ${pruned.join(', ')}`);
    // The prune above still kept the chosen archive and the newer ones; now the choice is spent, and the
    // next stop prunes as usual (README, "World versions").
    const held = readChosenArchive(this.root);
    if (held?.savedAgain) {
      await spendChosenArchive(this.root);
      notes.push(`the restore of ${held.archive} is spent`);
    }
    return notes.join('; ') || 'Nothing left to remove';
  }

  /**
   * Keeps the newest `keepArchives`, and, while a restore's choice stands, the chosen archive and every
   * newer one (chosen-archive.ts `archivesToPrune`). It runs only once the host is gone (destroy renamed it away), so
   * no running host can have been built from an archive it removes (invariant 4); with a host present
   * it refuses rather than guess which archive that host came from.
   */
  private async prune(): Promise<string[]> {
    if (existsSync(this.hostDir)) throw new HostError(`Not pruning archives while ${this.hostDir} exists`, false);
    const archives = await listArchives(this.archiveDir);
    const doomed = archivesToPrune(archives, this.server.keepArchives, readChosenArchive(this.root));
    for (const archive of doomed) await rm(join(this.archiveDir, archive.name));
    return doomed.map((a) => a.name);
  }

  /** Moves a damaged archive to `archives/corrupt/`, where restore and prune never look. */
  private async setAside(name: string, why: string): Promise<void> {
    await mkdir(this.corruptDir, { recursive: true });
    await rename(join(this.archiveDir, name), join(this.corruptDir, name));
    this.log.error({ archive: name, why }, 'Found a damaged archive; set it aside in archives/corrupt/');
  }

  /** Leftovers of earlier attempts (staging-*, trash-*). Cleanup only: one still busy is kept for next time. */
  private async removeLeftovers(...prefixes: string[]): Promise<void> {
    if (!existsSync(this.root)) return;
    for (const name of await readdir(this.root)) {
      if (!prefixes.some((prefix) => name.startsWith(prefix))) continue;
      await rm(join(this.root, name), { recursive: true, force: true }).catch((err: unknown) =>
        this.log.warn({ dir: name, err: messageOf(err) }, 'Could not remove a leftover directory yet; trying again next time'),
      );
    }
  }

  /** Moves a staging directory out of the way at once (it is never reused), then removes it. */
  private async discard(staging: string): Promise<void> {
    const trash = join(this.root, `trash-${this.clock()}-${randomBytes(3).toString('hex')}`);
    await rename(staging, trash);
    await rm(trash, { recursive: true, force: true }).catch((err: unknown) =>
      this.log.warn({ dir: trash, err: messageOf(err) }, 'Could not remove a failed staging directory yet; it goes with the next cleanup'),
    );
  }

  archives(): Promise<ArchiveInfo[]> {
    return listArchives(this.archiveDir);
  }

  /** The host's RCON address and password, read again only when server.properties changed. */
  private async rconTarget(): Promise<RconTarget> {
    const path = join(this.hostDir, 'server.properties');
    const { mtimeMs, ino } = await stat(path);
    const stamp = `${ino}:${mtimeMs}`;
    if (this.rconCache?.stamp === stamp) return this.rconCache.target;
    const password = parseProperties(await readFile(path, 'utf8')).get('rcon.password');
    if (!password) throw new HostError(`${path} has no rcon.password`, false);
    const target = { host: '127.0.0.1', port: this.server.game.rconPort, password };
    this.rconCache = { stamp, target };
    return target;
  }

  async consoleCommand(command: string): Promise<string> {
    return this.consoleRcon.send(await this.rconTarget(), command);
  }

  followLog(options: FollowOptions): AsyncIterable<LogChunk> {
    return followFile(join(this.hostDir, LOG_FILE), options);
  }

  async close(): Promise<void> {
    await this.saving.close();
    await this.rcon.close();
    await this.consoleRcon.close();
  }
}
