import { join } from 'node:path';
import { DigitalOceanDriver } from '../drivers/digitalocean/do-driver.js';
import { chosenStartImage } from '../drivers/digitalocean/start-image.js';
import type { Driver } from '../drivers/driver.js';
import { LocalDriver } from '../drivers/local/local-driver.js';
import type { Store } from '../store/store.js';
import { sessionTimeline } from '../store/session-timeline.js';
import { chooseArchive, readStandingChoice } from './chosen-archive.js';
import { chooseDoCopy, chooseDoSnapshot } from './do-world-choice.js';
import { copyVersions, listServerCopies, newestFirst } from './copy-versions.js';
import { WorldRestoreRefusedError } from './world-errors.js';
import { digitalOceanVersions, localVersions, type WorldVersion } from './versions.js';

/** How many past sessions are matched to versions: more than any keepArchives/keepSnapshots in use. */
const SESSIONS = 200;

/**
 * How long a DigitalOcean server's snapshot listing answers the versions list: every signed-in person
 * may load it, and each fresh one is a DigitalOcean API request (5,000 an hour for the whole account,
 * the controller's own starts and stops included). Snapshots change only at a stop or an adoption.
 */
export const SNAPSHOT_LISTING_MS = 10_000;
const snapshotListings = new WeakMap<DigitalOceanDriver, { at: number; phase: string; snapshots: ReturnType<DigitalOceanDriver['ownSnapshots']> }>();

/** After an adoption: the next listing asks DigitalOcean again. */
export function forgetSnapshotListing(driver: Driver): void {
  if (driver instanceof DigitalOceanDriver) snapshotListings.delete(driver);
}

/**
 * The server's own snapshots, shared by listings within SNAPSHOT_LISTING_MS (and by those at once) in
 * the same phase (`phase`: a stop's snapshot and prune end their phase, so no listing outlives them); `fresh` asks again.
 */
function listedSnapshots(driver: DigitalOceanDriver, phase: string, fresh: boolean): ReturnType<DigitalOceanDriver['ownSnapshots']> {
  const now = performance.now();
  const known = snapshotListings.get(driver);
  if (!fresh && known && known.phase === phase && now - known.at < SNAPSHOT_LISTING_MS) return known.snapshots;
  const snapshots = driver.ownSnapshots();
  snapshotListings.set(driver, { at: now, phase, snapshots });
  // A failed listing is not kept: the next one asks again.
  snapshots.catch(() => {
    if (snapshotListings.get(driver)?.snapshots === snapshots) snapshotListings.delete(driver);
  });
  return snapshots;
}

const phaseOf = (store: Store, server: string) => {
  const state = store.servers.get(server);
  return state ? `${state.phase}@${state.phaseSince}` : '';
};

/** A server's world versions, newest first, whatever its driver (versions.ts). `fresh`: no shared snapshot listing (a restore). */
export async function listWorlds(driver: Driver, o: { store: Store; dataDir: string; server: string; now: number; fresh?: boolean }): Promise<WorldVersion[]> {
  const { sessions } = sessionTimeline(o.store.db, o.server, { now: o.now, prices: new Map(), limit: SESSIONS });
  const { dir, copies } = await listServerCopies(o.dataDir, o.server);
  if (driver instanceof LocalDriver) {
    // A local server's backups (backups.enabled) are listed beside its archives; its restore choice names an archive, never a copy.
    const archives = localVersions({ archives: await driver.archives(), archiveDir: driver.archiveDir, chosen: readStandingChoice(driver.root), sessions });
    return copies.length === 0 ? archives : newestFirst(archives, copyVersions({ copies, dir, chosen: null, sessions }));
  }
  if (driver instanceof DigitalOceanDriver) {
    const adoptedIds = new Set(o.store.ownSnapshots.list(o.server).filter((r) => r.source === 'adopted').map((r) => r.snapshotId));
    // A standing choice (chosen-world.json) on DigitalOcean names a copy: the next droplet gets it before its game starts.
    const copyChoice = readStandingChoice(join(o.dataDir, 'servers', o.server));
    return digitalOceanVersions({ snapshots: await listedSnapshots(driver, phaseOf(o.store, o.server), o.fresh === true), chosen: chosenStartImage(o.dataDir, o.server), adoptedIds, sessions, copies: copyVersions({ copies, dir, chosen: copyChoice, sessions }) });
  }
  throw new Error(`Server ${o.server}'s driver keeps no world versions OoD can list`);
}

/**
 * Records `version` as what the next start boots: locally the restore choice, on DigitalOcean the start
 * image (which provision already honours and spends). Nothing is deleted or rewritten but that record.
 */
export async function chooseWorld(driver: Driver, version: WorldVersion, o: { dataDir: string; server: string; by: string; now: number }): Promise<void> {
  const chosenAt = new Date(o.now).toISOString();
  if (driver instanceof LocalDriver && version.where === 'local archive') {
    await chooseArchive(driver.root, { archive: version.name, ts: Math.floor(version.time / 1000), chosenAt, by: o.by });
    return;
  }
  if (driver instanceof DigitalOceanDriver && version.where === 'DigitalOcean snapshot' && version.snapshotId) {
    await chooseDoSnapshot(o.dataDir, o.server, { snapshotId: version.snapshotId, name: version.name, chosenAt, source: 'restore', by: o.by });
    return;
  }
  // A copy (an upload, or one made during play): the next droplet gets it over SSH before its game starts (world-push.ts).
  if (driver instanceof DigitalOceanDriver && version.where === 'local copy') {
    await chooseDoCopy(o.dataDir, o.server, { archive: version.name, ts: Math.floor(version.time / 1000), chosenAt, by: o.by });
    return;
  }
  // A local start unpacks an archive (startCandidates): a copy becomes one by the upload's checked write.
  if (driver instanceof LocalDriver && version.where === 'local copy') {
    throw new WorldRestoreRefusedError(
      `Server ${o.server} runs on this machine, where a start unpacks an archive, not a copy; to start from ${version.id}, download it (ood download ${o.server} ${version.id} -o ${version.id}.tar.gz) and upload that file (ood upload ${o.server} ${version.id}.tar.gz), which stores it as the newest archive and chooses it`,
    );
  }
  throw new Error(`Server ${o.server} cannot start from ${version.where} ${version.name}`);
}
