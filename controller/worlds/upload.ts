import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import type { Controller, Request } from '../controller.js';
import { archiveName, listArchives, nextArchiveTs, writeArchive } from '../drivers/local/archive.js';
import { formatSize } from '../config/size.js';
import { updateProperties } from '../minecraft/properties.js';
import { chooseArchive, readChosenArchive, startCandidates } from './chosen-archive.js';
import { chooseWorldFolder, checkLevelDat, entryProblem, keepsLevelDat, LEVEL_DAT_MAX, levelDatFolder, segments, unpackedTooLarge, WorldUploadError } from './upload-checks.js';
import { extractZipFolder, scanZip, ZIP_TYPES } from './upload-zip.js';
import { findVersion, localVersionId, type WorldVersion } from './versions.js';
import { copyVersionId } from './copy-versions.js';
import { chooseDoCopy } from './do-world-choice.js';

/**
 * An admin's upload of a world (issue 19 item 5): the bytes are streamed to a temp file under
 * `<dataDir>/servers/<id>/uploads/` and counted (past `worlds.maxUpload` the read stops, 413); the file
 * is read through once to check every entry and the level.dat (upload-checks.ts); only the world folder
 * is unpacked, and stored by archive.ts's `writeArchive` as the newest local archive (so it is verified
 * like one: written, read back, renamed) and chosen, so the next start unpacks it even over an
 * earlier restore. Nothing the server had is deleted or rewritten but the restore choice; a refused
 * upload leaves nothing behind. A world is never started from an upload that did not verify: only a
 * verified archive is ever renamed into `archives/`.
 * On a DigitalOcean server the same checks and the same write store it in `copies/` instead (a copy,
 * `copy-<ts>`), chosen in `chosen-world.json`: the next droplet gets it over SSH before its game starts
 * (drivers/digitalocean/world-push.ts).
 */

/** Content types the route accepts as a `.tar.gz`. */
export const GZIP_TYPES = new Set(['application/gzip', 'application/x-gzip', 'application/x-tar+gzip', 'application/tar+gzip', 'application/x-compressed-tar']);

/** The world as unpacked: always `world/`, the game's default `level-name`, written into the carried server.properties. */
const WORLD = 'world';
const PROPERTIES = 'server.properties';

export interface UploadedWorld {
  version: WorldVersion;
  /** The folder level.dat sat in inside the upload (`''`: its top). */
  folder: string;
  /** Bytes received (compressed). */
  bytes: number;
}

/** Where the local driver keeps a server's files (local-driver.ts: `<dataDir>/servers/<id>`). */
const serverRoot = (controller: Controller, id: string) => join(controller.config.dataDir, 'servers', id);

/** Throws unless the server is archived and nobody wants it up: a host would be saved as a newer version over the upload. */
export function refuseUnlessArchived(controller: Controller, id: string): void {
  const state = controller.store.servers.get(id)!;
  if (state.phase !== 'archived' || state.desired !== 'down') {
    throw new WorldUploadError(
      409,
      `Server ${id} is ${state.phase}${state.desired === 'up' ? ' and wanted up' : ''}; a world is uploaded only while the server is archived (stopped, no host). Stop it, wait until it is archived, then upload`,
    );
  }
}

/** What the body is, from its Content-Type: read by node-tar or by yauzl (upload-zip.ts); checked and stored alike. */
export type UploadKind = 'tar.gz' | 'zip';

/** Refusals that need no byte of the body: the type, the state, a declared length past the cap. Returns the body's kind. */
export function refuseBeforeReading(controller: Controller, id: string, o: { contentType: string; contentLength: number | undefined }): UploadKind {
  const type = o.contentType.split(';')[0]!.trim().toLowerCase();
  const kind: UploadKind | undefined = ZIP_TYPES.has(type) ? 'zip' : GZIP_TYPES.has(type) ? 'tar.gz' : undefined;
  if (!kind) throw new WorldUploadError(415, `the body's Content-Type is "${type.slice(0, 80)}"; send a .tar.gz as application/gzip, or a .zip as application/zip`);
  refuseUnlessArchived(controller, id);
  const max = controller.config.worlds.maxUpload;
  if (o.contentLength !== undefined && o.contentLength > max) throw tooLarge(max, o.contentLength);
  return kind;
}

const tooLarge = (max: number, bytes?: number) =>
  new WorldUploadError(413, `the upload is larger than worlds.maxUpload (${formatSize(max)}${bytes === undefined ? '' : `; it is ${formatSize(bytes)}`}); raise worlds.maxUpload in ood.yaml or upload a smaller world`);

/**
 * Writes `body` to `file`, counting: past `max` bytes it stops reading (the request is left for the
 * HTTP server to close, not destroyed, so the client still hears the 413) and throws.
 */
async function receive(body: Readable, file: string, max: number): Promise<number> {
  let bytes = 0;
  await pipeline(async function* () {
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > max) throw tooLarge(max);
      yield chunk;
    }
  }, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  return bytes;
}

interface Scan {
  folders: string[];
  levelDats: Map<string, Buffer>;
}

/**
 * Reads the upload once with node-tar's lister (strict): gunzip (a truncated or altered file fails on
 * its CRC or length), every entry checked, and each candidate level.dat kept in memory (they are
 * small). Unpacked bytes are capped too, so a small file that inflates without end is refused before
 * anything is unpacked.
 */
async function scan(file: string, maxUnpacked: number): Promise<Scan> {
  const out: Scan = { folders: [], levelDats: new Map() };
  const kept = new Set<string>();
  let unpacked = 0;
  let refused: WorldUploadError | undefined;
  // node-tar would read a plain tar too; the API takes .tar.gz only, which also covers the file with gzip's CRC.
  const head = Buffer.alloc(2);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) throw new WorldUploadError(400, 'the upload is not a whole .tar.gz file (it does not start as gzip does); send a .tar.gz of the world folder');
  try {
    await tar.t({
      file,
      strict: true,
      // node-tar reads 16 MB at a time by default, and what one read inflates to waits in memory for the parser.
      maxReadSize: 1 << 20,
      onReadEntry: (entry) => {
        if (refused) return;
        unpacked += entry.size;
        const problem = entryProblem(entry.path, entry.type, entry.linkpath);
        if (problem) refused = new WorldUploadError(400, problem);
        else if (unpacked > maxUnpacked) refused = unpackedTooLarge(maxUnpacked);
        const folder = refused ? undefined : levelDatFolder(entry.path, entry.type);
        if (folder === undefined || entry.size > LEVEL_DAT_MAX) return;
        // Only a level.dat the folder choice can pick is held in memory (upload-checks.ts keepsLevelDat).
        if (!keepsLevelDat(folder, kept)) return void out.folders.push(folder);
        kept.add(folder);
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          out.folders.push(folder);
          out.levelDats.set(folder, Buffer.concat(chunks));
        });
      },
    });
  } catch (err) {
    if (refused) throw refused;
    const e = err as NodeJS.ErrnoException & { tarCode?: string };
    if (e.code?.startsWith('Z_') || e.errno !== undefined && /zlib|gzip|unexpected end/i.test(e.message)) {
      throw new WorldUploadError(400, `the upload is not a whole .tar.gz file (gzip: ${e.message}); send it again, or check the file`, { cause: err });
    }
    if (e.tarCode || e.code?.startsWith('TAR_')) throw new WorldUploadError(400, `the upload is not a readable tar archive (${e.message}); send a .tar.gz of the world folder`, { cause: err });
    throw err;
  }
  if (refused) throw refused;
  return out;
}

/**
 * The game's settings for the uploaded world: `server.properties` of the version it replaces (the one
 * the next start would have booted), else the template's, with `level-name` pointing at the uploaded
 * folder. Without it the next host would get only the keys OoD writes (ports, RCON), and lose the
 * admin's settings (online-mode, motd, difficulty) for a world that has none of its own.
 */
async function carrySettings(controller: Controller, id: string, staging: string): Promise<void> {
  const root = serverRoot(controller, id);
  const replaced = startCandidates(await listArchives(join(root, 'archives')), readChosenArchive(root))[0];
  const props = join(staging, PROPERTIES);
  if (replaced) {
    // One small entry; the whole archive is still read through once (tar keeps no index).
    await tar.x({ file: join(root, 'archives', replaced.name), cwd: staging, strict: true, preserveOwner: false, filter: (path) => segments(path).join('/') === PROPERTIES });
  } else {
    const template = controller.config.servers.find((s) => s.id === id)!.local.template;
    if (template && existsSync(join(template, PROPERTIES))) await copyFile(join(template, PROPERTIES), props);
  }
  const text = existsSync(props) ? await readFile(props, 'utf8') : '';
  await writeFile(props, updateProperties(text, { 'level-name': WORLD }), { mode: 0o600 });
}

/**
 * Receives, checks and stores an uploaded world for a local server; the next start boots it. Throws
 * WorldUploadError (400/409/413) for anything refused, with nothing left behind. The caller lets only
 * one upload per server run at a time.
 */
export async function uploadWorld(controller: Controller, id: string, body: Readable, who: Request, kind: UploadKind = 'tar.gz'): Promise<UploadedWorld> {
  const root = serverRoot(controller, id);
  const uploads = join(root, 'uploads');
  // On DigitalOcean the upload is a copy, which the next droplet gets over SSH before its game starts (world-push.ts).
  const onCloud = controller.config.servers.find((s) => s.id === id)!.driver === 'digitalocean';
  const archives = join(root, onCloud ? 'copies' : 'archives');
  const versionIdOf = (name: string) => (onCloud ? copyVersionId({ ts: Number(/\d+/.exec(name)![0]) }) : localVersionId(name));
  const max = controller.config.worlds.maxUpload;
  await mkdir(uploads, { recursive: true });
  // Left by a controller stopped mid-upload: never a version (only archives/ holds those), and no other
  // upload to this server runs now (the route lets one at a time, and one controller holds the data dir).
  for (const name of await readdir(uploads)) await rm(join(uploads, name), { recursive: true, force: true });
  const temp = join(uploads, `upload-${Date.now()}-${randomBytes(4).toString('hex')}.tar.gz.partial`);
  let staging: string | undefined;
  try {
    const bytes = await receive(body, temp, max);
    const { folders, levelDats } = kind === 'zip' ? await scanZip(temp, max * 10) : await scan(temp, max * 10);
    const folder = chooseWorldFolder(folders);
    checkLevelDat(levelDats.get(folder)!, folder === '' ? 'level.dat' : `${folder}/level.dat`);

    staging = await mkdtemp(join(uploads, 'staging-'));
    const into = join(staging, WORLD);
    await mkdir(into);
    const inFolder = (path: string) => folder === '' || segments(path)[0] === folder;
    if (kind === 'zip') await extractZipFolder(temp, into, folder);
    else await tar.x({ file: temp, cwd: into, strict: true, preserveOwner: false, strip: folder === '' ? 0 : 1, filter: (path) => inFolder(path) });

    // A droplet keeps its own server.properties: only the world folder is pushed to it.
    if (!onCloud) await carrySettings(controller, id, staging);

    refuseUnlessArchived(controller, id); // a start pressed while the bytes came in wins; nothing was stored
    const now = Date.now();
    const name = archiveName(nextArchiveTs(now, await listArchives(archives)));
    await writeArchive(staging, join(archives, name));
    // A start pressed while it was written may already be unpacking another world: the upload stays a
    // listed version (nothing is deleted), but choosing it now would be spent by that host's stop.
    const stillArchived = () => {
      try {
        refuseUnlessArchived(controller, id);
      } catch (err) {
        throw new WorldUploadError(409, `${(err as Error).message.replace(/; a world is uploaded only.*$/, '')} since the upload began: it was stored as version ${versionIdOf(name)} but not chosen; restore it once the server is archived again`, { cause: err });
      }
    };
    const choice = { archive: name, ts: Number(/\d+/.exec(name)![0]), chosenAt: new Date(now).toISOString(), by: who.actor };
    // Starts are refused while the choice is written: one let through would boot the world it replaces.
    await controller.choosingWorldWhileArchived(id, `an upload by ${who.actor}`, stillArchived, () => (onCloud ? chooseDoCopy(controller.config.dataDir, id, choice) : chooseArchive(root, choice)));

    const detail = onCloud
      ? `${name} (local copy, version ${versionIdOf(name)}) from an upload of ${formatSize(bytes)}${folder ? ` (world folder ${folder}/)` : ''}; the next droplet gets it over SSH before its game starts (the world there moved aside, not deleted), the versions before it are kept`
      : `${name} (local archive, version ${localVersionId(name)}) from an upload of ${formatSize(bytes)}${folder ? ` (world folder ${folder}/)` : ''}; the next start boots it, the versions before it are kept`;
    controller.store.db.transaction(() => {
      controller.store.journal.record(id, 'archived', 'upload', `World uploaded by ${who.actor}: ${detail}`, now);
      controller.store.audit.add({ at: now, actor: who.actor, source: who.source, action: 'world uploaded', server: id, detail });
    })();
    const version = findVersion(await controller.worlds(id), versionIdOf(name));
    if (!version) throw new Error(`The uploaded world ${name} was stored but is not listed among ${id}'s versions`);
    return { version, folder, bytes };
  } finally {
    await rm(temp, { force: true });
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}
