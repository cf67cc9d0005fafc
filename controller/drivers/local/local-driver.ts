import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerConfig } from '../../config/schema.js';
import { ArchiveError, HostError, messageOf } from '../../errors.js';
import type { Logger } from '../../log.js';
import { updateProperties, parseProperties } from '../../minecraft/properties.js';
import { RconSession, type RconTarget } from '../../minecraft/rcon.js';
import { statusPing } from '../../minecraft/status-ping.js';
import type { Observation, Players } from '../../reconcile/types.js';
import type { ArchiveInfo, Driver } from '../driver.js';
import { archiveName, type ArchiveFacts, extractArchive, listArchives, nextArchiveTs, readArchive, writeArchive } from './archive.js';
import { findHostProcesses, signalAll, spawnHostProcess } from './processes.js';

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
export class LocalDriver implements Driver {
  readonly root: string;
  readonly hostDir: string;
  readonly archiveDir: string;
  readonly corruptDir: string;
  private readonly rcon = new RconSession();

  constructor(
    private readonly server: ServerConfig,
    dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.root = join(dataDir, 'servers', server.id);
    this.hostDir = join(this.root, 'host');
    this.archiveDir = join(this.root, 'archives');
    this.corruptDir = join(this.archiveDir, 'corrupt');
  }

  address(): string {
    return `${this.server.local.publicHost}:${this.server.game.port}`;
  }

  async observe(): Promise<Observation> {
    const host = existsSync(this.hostDir) ? 'present' : 'absent';
    const pids = await findHostProcesses(this.hostDir);
    if (pids.length === 0) return { host, power: 'off', game: 'silent', players: null };
    let pinged: Players | null = null;
    try {
      pinged = (await statusPing('127.0.0.1', this.server.game.port, 1_000)).players;
    } catch (err) {
      this.log.debug({ err: messageOf(err) }, 'Game did not answer a status ping');
      return { host, power: 'on', game: 'silent', players: null };
    }
    let players: Players | null = pinged;
    try {
      players = await this.rcon.list(await this.rconTarget());
    } catch (err) {
      // The status ping's count stands in; it lacks names past the sample but is a real count.
      this.log.debug({ err: messageOf(err) }, 'Could not list players over RCON; using the status ping');
    }
    return { host, power: 'on', game: 'answering', players };
  }

  async provision(): Promise<string> {
    if (existsSync(this.hostDir)) return 'The working directory already exists';
    await mkdir(this.root, { recursive: true });
    await this.removeLeftovers('staging-');
    const staging = await mkdtemp(join(this.root, 'staging-'));
    const { restoredFrom, notes } = await this.restoreInto(staging);
    const propsPath = join(staging, 'server.properties');
    const props = existsSync(propsPath) ? await readFile(propsPath, 'utf8') : '';
    await writeFile(
      propsPath,
      updateProperties(props, {
        'server-port': String(this.server.game.port),
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

  /** Newest good archive into `staging`; a damaged one is set aside in `archives/corrupt/` and the next tried. */
  private async restoreInto(staging: string): Promise<{ restoredFrom: string | null; notes: string[] }> {
    const notes: string[] = [];
    const archives = await listArchives(this.archiveDir);
    for (const archive of archives) {
      try {
        await extractArchive(join(this.archiveDir, archive.name), staging);
        return { restoredFrom: archive.name, notes };
      } catch (err) {
        if (!(err instanceof ArchiveError)) throw err;
        await this.setAside(archive.name, err.message);
        notes.push(`${archive.name} is damaged (${err.message.replace(/^Archive \S+ is damaged: /, '')}); set it aside in archives/corrupt/`);
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging);
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
    if (this.server.local.template) await cp(this.server.local.template, staging, { recursive: true });
    return { restoredFrom: null, notes };
  }

  async boot(): Promise<string> {
    const running = await findHostProcesses(this.hostDir);
    if (running.length > 0) return `The game already runs (pid ${running.join(', ')})`;
    const pid = await spawnHostProcess({ command: this.server.local.command, hostDir: this.hostDir, logFile: join(this.hostDir, LOG_FILE), env: this.env });
    return `Started the game (pid ${pid}); its output goes to ${join(this.hostDir, LOG_FILE)}`;
  }

  async say(message: string): Promise<void> {
    await this.rcon.send(await this.rconTarget(), `say ${message}`);
  }

  async stopGame(reason: string): Promise<string> {
    const target = await this.rconTarget();
    await this.rcon.send(target, `say Server stopping: ${reason}. Saving the world.`);
    const saved = await this.rcon.send(target, 'save-all flush');
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
    const sent = signalAll(await findHostProcesses(this.hostDir), 'SIGKILL');
    return sent.length ? `Sent SIGKILL to pid ${sent.join(', ')}` : 'No game process was left';
  }

  async snapshot(): Promise<string> {
    // After a crash the record may be all that is left of a finished snapshot: read it back in full.
    const confirmed = await this.confirmedArchive('read back');
    if (confirmed) return `Already archived as ${confirmed.archive}`;
    const running = await findHostProcesses(this.hostDir);
    if (running.length > 0) throw new HostError(`The game still runs (pid ${running.join(', ')}); not archiving a live world`, false);
    const name = archiveName(nextArchiveTs(this.clock(), await listArchives(this.archiveDir)));
    const facts = await writeArchive(this.hostDir, join(this.archiveDir, name));
    if (!(await listArchives(this.archiveDir)).some((a) => a.name === name)) {
      throw new ArchiveError(`Archive ${name} was written but is not listed in ${this.archiveDir}`, true);
    }
    const record: ArchivedRecord = { archive: name, sha256: facts.sha256, entries: facts.entries, bytes: facts.bytes };
    await writeFile(join(this.hostDir, ARCHIVED_FILE), JSON.stringify(record));
    return `Archived to ${name} (${facts.entries} entries, ${(facts.bytes / 1e6).toFixed(1)} MB, sha256 ${facts.sha256.slice(0, 12)})`;
  }

  /**
   * The archive this host was saved to, when it is listed with the size `snapshot` verified, and, with
   * 'read back', reads back with the same sha256 and entry count. `destroy` runs right after `snapshot`
   * read the whole file; it checks the listing rather than reading a large world a second time.
   */
  private async confirmedArchive(depth: 'listed' | 'read back'): Promise<ArchivedRecord | undefined> {
    const path = join(this.hostDir, ARCHIVED_FILE);
    if (!existsSync(path)) return undefined;
    const record = JSON.parse(await readFile(path, 'utf8')) as ArchivedRecord;
    const listed = (await listArchives(this.archiveDir)).find((a) => a.name === record.archive);
    if (!listed || listed.bytes !== record.bytes) return undefined;
    if (depth === 'listed') return record;
    let facts: ArchiveFacts | undefined;
    try {
      facts = await readArchive(join(this.archiveDir, record.archive));
    } catch (err) {
      if (!(err instanceof ArchiveError)) throw err;
    }
    if (facts && facts.sha256 === record.sha256 && facts.entries === record.entries) return record;
    // Damaged since it was written: never restore it; the host is still here to archive again.
    await this.setAside(record.archive, 'it no longer matches what was written');
    return undefined;
  }

  async destroy(): Promise<string> {
    const notes: string[] = [];
    if (existsSync(this.hostDir)) {
      const running = await findHostProcesses(this.hostDir);
      if (running.length > 0) throw new HostError(`The game still runs (pid ${running.join(', ')}); not removing its host`, false);
      const confirmed = await this.confirmedArchive('listed');
      if (!confirmed) throw new HostError(`No confirmed archive of ${this.hostDir} (its archive is missing or changed size); not removing it`, false);
      // Rename first: the host is gone in one step, and a crash mid-removal leaves only trash.
      await rename(this.hostDir, join(this.root, `trash-${this.clock()}`));
      notes.push(`Removed the working directory (saved as ${confirmed.archive})`);
    }
    await this.removeLeftovers('trash-');
    const pruned = await this.prune();
    if (pruned.length) notes.push(`Pruned ${pruned.join(', ')}`);
    return notes.join('; ') || 'Nothing left to remove';
  }

  /** Keeps the newest `keepArchives`, and always the one a present host was restored from. */
  private async prune(): Promise<string[]> {
    const archives = await listArchives(this.archiveDir);
    const protectedName = existsSync(join(this.hostDir, HOST_FILE))
      ? (JSON.parse(await readFile(join(this.hostDir, HOST_FILE), 'utf8')) as HostRecord).restoredFrom
      : null;
    const doomed = archives.slice(this.server.keepArchives).filter((a) => a.name !== protectedName);
    for (const archive of doomed) await rm(join(this.archiveDir, archive.name));
    return doomed.map((a) => a.name);
  }

  /** Moves a damaged archive to `archives/corrupt/`, where restore and prune never look. */
  private async setAside(name: string, why: string): Promise<void> {
    await mkdir(this.corruptDir, { recursive: true });
    await rename(join(this.archiveDir, name), join(this.corruptDir, name));
    this.log.error({ archive: name, why }, 'Found a damaged archive; set it aside in archives/corrupt/');
  }

  private async removeLeftovers(prefix: string): Promise<void> {
    if (!existsSync(this.root)) return;
    for (const name of await readdir(this.root)) {
      if (name.startsWith(prefix)) await rm(join(this.root, name), { recursive: true, force: true });
    }
  }

  archives(): Promise<ArchiveInfo[]> {
    return listArchives(this.archiveDir);
  }

  private async rconTarget(): Promise<RconTarget> {
    const props = parseProperties(await readFile(join(this.hostDir, 'server.properties'), 'utf8'));
    const password = props.get('rcon.password');
    if (!password) throw new HostError(`${this.hostDir}/server.properties has no rcon.password`, false);
    return { host: '127.0.0.1', port: this.server.game.rconPort, password };
  }

  async close(): Promise<void> {
    await this.rcon.close();
  }
}
