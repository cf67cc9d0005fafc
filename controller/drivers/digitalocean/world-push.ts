import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudError } from '../../errors.js';
import { writeFileDurably } from '../../fs/durable.js';
import { chooseArchive, readChosenArchive, readStandingChoice, spendChosenArchive, type ChosenArchive } from '../../worlds/chosen-archive.js';
import { readArchive } from '../local/archive.js';
import { GAME_DIR, PROCESS_UP, type RemoteGame } from './remote-game.js';
import type { SshHost, SshTarget } from './ssh-host.js';

/**
 * A copy chosen as a DigitalOcean server's next world (an upload, or a restore of a copy: issue 19
 * items 2 and 5). The droplet is made from the newest snapshot as always; then, before the game is
 * started on it, the copy is streamed over the SSH connection OoD holds, checked there (size and
 * sha256), unpacked beside the game, and put in place of the game's world, which is moved aside
 * (`<level-name>.ood-replaced-<unix seconds>`), never deleted.
 *
 * What proves the push happened is the marker `/srv/minecraft/.ood-pushed`, naming the copy and the
 * droplet, written on the droplet after the new world is in place and synced. A boot that finds it
 * skips the push; one that does not (a crash anywhere before it) pushes again: the world then in
 * place (the old one, or an earlier try of the push) is moved aside in turn, so a repeated boot always
 * ends with the copy in place and everything it replaced kept. The droplet id in the marker makes a
 * later droplet made from that droplet's snapshot push again if the same copy is chosen again.
 *
 * The choice outlives the push: `copy-push.json` records which droplet got it. Once a snapshot of that
 * droplet is confirmed, the choice is marked `savedAgain` (the next start boots that snapshot, never
 * the copy again), and the prune of that stop still keeps every snapshot newer than the copy; the
 * choice is spent after that prune, as the local driver does with its archives.
 */

/** Where a server's copies live, in the local driver's archive format (`ood-<unix seconds>.tar.gz`). */
export function copiesDir(dataDir: string, server: string): string {
  return join(dataDir, 'servers', server, 'copies');
}

const serverRoot = (dataDir: string, server: string) => join(dataDir, 'servers', server);
const PUSH_DIR = `${GAME_DIR}/.ood-push`;
const MARKER = `${GAME_DIR}/.ood-pushed`;

interface PushRecord {
  archive: string;
  dropletId: number;
  pushedAt: string;
}

function pushRecordPath(dataDir: string, server: string): string {
  return join(serverRoot(dataDir, server), 'copy-push.json');
}

function readPushRecord(dataDir: string, server: string): PushRecord | null {
  const path = pushRecordPath(dataDir, server);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as PushRecord) : null;
}

/** The marker's content: which copy, on which droplet. */
const token = (archive: string, dropletId: number) => `${archive} droplet ${dropletId}`;

/** Single-quotes `value` for sh. */
const sh = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The standing copy choice, if any, whose file must exist: a start never silently falls back to another world. */
export function requireChosenCopy(dataDir: string, server: string): ChosenArchive | null {
  const chosen = readStandingChoice(serverRoot(dataDir, server));
  if (!chosen) return null;
  const file = join(copiesDir(dataDir, server), chosen.archive);
  if (!existsSync(file)) {
    throw new CloudError(
      `The copy ${chosen.archive} chosen by ${chosen.by} as ${server}'s next world is not in ${copiesDir(dataDir, server)}: ` +
        `restore another version (\`ood worlds ${server}\`), or delete ${join(serverRoot(dataDir, server), 'chosen-world.json')} to start from the newest snapshot`,
      false,
    );
  }
  return chosen;
}

export interface PushDeps {
  dataDir: string;
  server: string;
  dropletId: number;
  ssh: SshHost;
  target: SshTarget;
  game: RemoteGame;
  /** How long sending and unpacking may take (the booting deadline). */
  timeoutMs: number;
  /** The game's stop deadline, for a game an autostarting image already started on the old world. */
  stoppingMs: number;
}

/**
 * Puts the chosen copy in place on the droplet before the game starts; '' when no copy is chosen.
 * Returns what it did, for the boot step's journal entry.
 */
export async function pushChosenCopy(d: PushDeps): Promise<string> {
  const chosen = requireChosenCopy(d.dataDir, d.server);
  if (!chosen) return '';
  const want = token(chosen.archive, d.dropletId);
  const marker = (await d.ssh.exec(d.target, `cat ${MARKER} 2>/dev/null || true`)).stdout.trim();
  if (marker === want) {
    // A crash right after the marker may have left the transfer's own files: never part of the world.
    await d.ssh.exec(d.target, `rm -rf ${PUSH_DIR}`);
    await recordPush(d, chosen.archive);
    return `; the chosen copy ${chosen.archive} was already in place on droplet ${d.dropletId}`;
  }
  // An image whose game starts by itself runs the old world: it is stopped (and so saves) before being moved aside.
  if (PROCESS_UP.has(await d.game.status())) await d.game.stop(d.stoppingMs);
  const file = join(copiesDir(d.dataDir, d.server), chosen.archive);
  // Read through before a byte is sent: a world is never started from a copy that does not verify.
  const facts = await readArchive(file);
  const props = await d.game.readProperties();
  const level = props.get('level-name') || 'world';
  const script = [
    'set -eu',
    `d=${GAME_DIR}; p=${PUSH_DIR}; level=${sh(level)}`,
    'mkdir -p "$p"',
    'cat > "$p/copy.tar.gz.partial"',
    `size=$(stat -c %s "$p/copy.tar.gz.partial"); [ "$size" = ${facts.bytes} ] || { echo "the copy arrived with $size bytes, not ${facts.bytes}" >&2; exit 3; }`,
    `echo ${facts.sha256}'  '"$p/copy.tar.gz.partial" | sha256sum -c --status || { echo "the copy arrived with another sha256 than ${facts.sha256}" >&2; exit 3; }`,
    'rm -rf "$p/unpack"; mkdir "$p/unpack"',
    'tar -xzf "$p/copy.tar.gz.partial" -C "$p/unpack" --no-same-owner',
    // The folder holding level.dat, at the top or one down (an upload keeps it as `world/`).
    'src=""; if [ -f "$p/unpack/level.dat" ]; then src="$p/unpack"; else for f in "$p"/unpack/*/level.dat; do if [ -f "$f" ]; then src=$(dirname "$f"); break; fi; done; fi',
    '[ -n "$src" ] || { echo "the copy holds no level.dat" >&2; exit 4; }',
    'aside=""',
    'if [ -e "$d/$level" ]; then n=$(date +%s); while [ -e "$d/$level.ood-replaced-$n" ]; do n=$((n+1)); done; aside="$level.ood-replaced-$n"; mv "$d/$level" "$d/$aside"; fi',
    'mv "$src" "$d/$level"',
    'if id minecraft >/dev/null 2>&1; then chown -R minecraft: "$d/$level"; fi',
    'sync',
    `printf '%s\\n' ${sh(want)} > "$d/.ood-pushed.tmp"; mv -f "$d/.ood-pushed.tmp" ${MARKER}; sync`,
    // Only the transfer's own files: the copy stays in OoD's copies/, the replaced world beside the game.
    'rm -rf "$p"',
    'echo "aside=$aside"',
  ].join('\n');
  const result = await d.ssh.execWithInputFile(d.target, script, file, { timeoutMs: d.timeoutMs });
  if (result.code !== 0) {
    throw new CloudError(`Could not put the copy ${chosen.archive} in place on droplet ${d.dropletId} (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(0, 300)}; the game's world there was not deleted, OoD tries again`, true);
  }
  if (!props.get('level-name')) await d.game.writeProperties({ 'level-name': level });
  await recordPush(d, chosen.archive);
  const aside = /^aside=(.*)$/m.exec(result.stdout)?.[1] ?? '';
  return (
    `; put the chosen copy ${chosen.archive} (${facts.bytes} bytes, sha256 checked on the droplet) in place as ${GAME_DIR}/${level} on droplet ${d.dropletId}` +
    (aside ? `, the world it replaced kept as ${GAME_DIR}/${aside}` : '')
  );
}

/** Written before the game starts on the pushed world: from then on a snapshot of that droplet holds it. */
async function recordPush(d: PushDeps, archive: string): Promise<void> {
  const known = readPushRecord(d.dataDir, d.server);
  if (known?.archive === archive && known.dropletId === d.dropletId) return;
  await writeFileDurably(pushRecordPath(d.dataDir, d.server), `${JSON.stringify({ archive, dropletId: d.dropletId, pushedAt: new Date().toISOString() } satisfies PushRecord)}\n`);
}

/**
 * Called once a snapshot of `savedDropletId` is confirmed: if that droplet ran the pushed copy, the
 * choice is marked savedAgain, so no later start pushes it again over what was played on it.
 */
export async function markCopySaved(dataDir: string, server: string, savedDropletId: number | undefined): Promise<void> {
  const pushed = readPushRecord(dataDir, server);
  const chosen = readStandingChoice(serverRoot(dataDir, server));
  if (!pushed || !chosen || savedDropletId === undefined || pushed.dropletId !== savedDropletId || pushed.archive !== chosen.archive) return;
  await chooseArchive(serverRoot(dataDir, server), { ...chosen, savedAgain: new Date().toISOString() });
}

/** After the prune of the stop that saved the pushed droplet: the choice (kept as a hold till now) is spent. */
export async function spendSavedCopy(dataDir: string, server: string): Promise<void> {
  if (!readChosenArchive(serverRoot(dataDir, server))?.savedAgain) return;
  await spendChosenArchive(serverRoot(dataDir, server));
  await rm(pushRecordPath(dataDir, server), { force: true });
}

/** While a copy is chosen (standing or saved but not yet pruned), pruning keeps every snapshot made at or after this time (ms). */
export function copyPruneSince(dataDir: string, server: string): number | null {
  const chosen = readChosenArchive(serverRoot(dataDir, server));
  return chosen ? chosen.ts * 1000 : null;
}
