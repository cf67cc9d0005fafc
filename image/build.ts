import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DriverEnv } from '../controller/drivers/create.js';
import type { DoClient } from '../controller/drivers/digitalocean/api/client.js';
import { powerDownDroplet, waitUntilListed } from '../controller/drivers/digitalocean/droplet-actions.js';
import { sshKeyPair, userData } from '../controller/drivers/digitalocean/keys.js';
import { fromApi, ownSnapshots, type SnapshotScope } from '../controller/drivers/digitalocean/snapshot-names.js';
import { installationId } from '../controller/installation-id.js';
import { chooseStartImage, imageSnapshotName } from '../controller/drivers/digitalocean/start-image.js';
import { SshHost } from '../controller/drivers/digitalocean/ssh-host.js';
import { StackProcess } from '../controller/drivers/digitalocean/stack-process.js';
import { DIGITALOCEAN_API } from '../controller/config/env.js';
import type { Config, ServerConfig } from '../controller/config/schema.js';
import { messageOf } from '../controller/errors.js';
import type { Logger } from '../controller/log.js';
import { claimServerForBuild } from './build-guard.js';
import { ImageBuildError } from './errors.js';
import { runPlaybook } from './playbook.js';

export interface ImageBuildOptions {
  config: Config;
  server: ServerConfig;
  env: DriverEnv;
  api: DoClient;
  /** A stock distribution image slug for the builder (default debian-13-x64: it has Java 21). */
  base: string;
  /** Start from this server's newest snapshot instead, keeping its world (a rebuild). */
  fromServer?: ServerConfig;
  /** A world to put in /srv/minecraft/world: a directory, a .zip or a .tar.gz. */
  world?: string;
  /** Keep the builder droplet afterwards (for debugging); it bills until deleted. */
  keepBuilder: boolean;
  /** Variables for the playbook (the jar, EULA, memory…). */
  vars: Record<string, unknown>;
  log: Logger;
  /** One line of progress for a person. */
  say: (line: string) => void;
  clock?: () => number;
  /** Build for a server that is not archived (its session goes on; the build is not what it resumes). */
  force?: boolean;
  /** Make the build the server's next start even when it has session snapshots (their worlds are not in it). */
  useNow?: boolean;
  /** Aborted on SIGINT/SIGTERM: the step under way is left and the builder destroyed. */
  signal?: AbortSignal;
}

export interface ImageBuildResult {
  snapshot: { id: string; name: string; sizeGigabytes: number };
  logFile: string;
  /** Whether the server's next start boots this image (`--use-now`, or its first build). */
  usedNow: boolean;
}

/**
 * `ood image build`: a builder droplet in its own stack (`ood-image-<server>`), SSH, the playbook with
 * live progress, shutdown, snapshot `<prefix>-image-<unix seconds>` confirmed listed, then the builder
 * destroyed, also when a step failed or the build was interrupted (unless asked to keep it). While it
 * runs, a mark in the data dir keeps the server from starting and names the builder's stack for the
 * orphan watch; the snapshot becomes the server's start image only when chosen (start-image.ts).
 */
export async function buildImage(o: ImageBuildOptions): Promise<ImageBuildResult> {
  const clock = o.clock ?? Date.now;
  const dir = join(o.config.dataDir, 'image-builds');
  mkdirSync(dir, { recursive: true });
  const build = String(Math.floor(clock() / 1000));
  const logFile = join(dir, `${build}.log`);
  const { release, hasSessions } = claimServerForBuild({
    dataDir: o.config.dataDir,
    mark: { server: o.server.id, build, pid: process.pid, stack: `ood-image-${o.server.id}`, startedAt: new Date(clock()).toISOString() },
    force: o.force ?? false,
    say: o.say,
  });
  const secrets = mkdtempSync(join(dir, 'keys-'));
  const client = sshKeyPair(`ood-image-${o.server.id}`);
  const host = sshKeyPair(`ood-image-${o.server.id}-host`);
  const keyFile = join(secrets, 'id_ed25519');
  writeFileSync(keyFile, client.private, { mode: 0o600 });
  const stack = new StackProcess({
    spec: {
      builder: true,
      server: o.server.id,
      region: o.server.digitalocean.region,
      size: o.server.digitalocean.size,
      sshPublicKey: client.public,
      userData: userData({ clientPrivate: client.private, clientPublic: client.public, hostPrivate: host.private, hostPublic: host.public }),
      sshSources: o.server.digitalocean.sshSources,
      installation: await installationId(o.config.dataDir),
    },
    dataDir: o.config.dataDir,
    env: { ...o.env.pulumiEnv, DIGITALOCEAN_TOKEN: o.env.digitalocean.token, DIGITALOCEAN_API_URL: o.env.digitalocean.apiUrl === DIGITALOCEAN_API ? undefined : o.env.digitalocean.apiUrl },
    ...(o.config.pulumi.command ? { pulumiCommand: o.config.pulumi.command } : {}),
    log: o.log,
  });
  const ssh = new SshHost(15_000);
  let builder: { id: number; ip: string } | undefined;
  let failed = true;
  // Every wait gives way to an abort; the stack operation under way is let finish before the destroy.
  const step = <T>(work: Promise<T>): Promise<T> => abortable(work, o.signal);
  let stackBusy: Promise<unknown> = Promise.resolve();
  try {
    const base = o.fromServer ? await step(newestSnapshotOf(o)) : o.base;
    o.say(`Creating the builder droplet from ${base} (${o.server.digitalocean.size} in ${o.server.digitalocean.region})…`);
    await stack.setConfig({ 'ood:image': { value: base } });
    const up = stack.up(`ood: image build for ${o.server.id}`);
    stackBusy = up.catch(() => undefined);
    const { outputs } = await step(up);
    builder = { id: Number(outputs.dropletId), ip: String(outputs.ipv4) };
    o.say(`Builder droplet ${builder.id} is at ${builder.ip}; waiting for SSH…`);
    const target = { host: builder.ip, port: 22, username: 'root', privateKey: client.private, hostKey: host.public };
    await step(ssh.waitReady(target, 5 * 60_000, 2_000));
    const knownHosts = join(secrets, 'known_hosts');
    writeFileSync(knownHosts, `${builder.ip} ${host.public}\n`);
    if (o.world) await step(uploadWorld(ssh, target, o.world, secrets));
    o.say(`Running the playbook (log: ${logFile})`);
    const result = await step(runPlaybook({
      host: builder.ip,
      user: 'root',
      privateKeyFile: keyFile,
      knownHostsFile: knownHosts,
      extraVars: { minecraft_server_port: o.server.game.port, minecraft_rcon_port: o.server.game.rconPort, ...o.vars, minecraft_prepare_snapshot: true },
      logFile,
      onProgress: (p) => o.say(`  [${p.n}/${p.of}] ${p.task} (${Math.round(p.elapsedMs / 1000)} s)`),
    }));
    o.say(`Playbook done in ${Math.round(result.elapsedMs / 1000)} s: ${result.changed} changed, ${result.ok} ok`);
    if (o.world) {
      // Uploaded before the play as root; the game's user exists only now. (The connection is the one
      // opened before the play's clean-up removed the host keys, so it still stands.)
      const owned = await ssh.exec(target, 'chown -R minecraft: /srv/minecraft/world');
      if (owned.code !== 0) throw new ImageBuildError(`Could not give the world to user minecraft: ${owned.stderr.trim().slice(0, 300)}`);
    }
    await ssh.close();
    o.say('Shutting the builder down for a consistent snapshot…');
    await step(powerDownDroplet(o.api, builder.id, 2 * 60_000, 2_000));
    // The installation's id and the server's in the name: another installation on the account never takes it.
    const scope = await scopeOf(o, o.server);
    const name = imageSnapshotName(`${scope.base}-${scope.installation}-${scope.server}`, Math.floor(clock() / 1000));
    o.say(`Taking snapshot ${name}…`);
    const action = await step(o.api.dropletAction(builder.id, { type: 'snapshot', name }));
    await step(o.api.waitForAction(action.id, { timeoutMs: 60 * 60_000, pollMs: 2_000 }));
    const snapshot = await step(waitUntilListed(o.api, name, builder.id, 30 * 60_000, 2_000));
    const sessions = ownSnapshots((await o.api.listSnapshots()).map(fromApi), scope, new Set());
    // The first build of a server that never saved a session is its start image; later ones only when asked.
    const usedNow = o.useNow === true || (sessions.length === 0 && !hasSessions);
    if (usedNow) {
      await chooseStartImage(o.config.dataDir, o.server.id, { snapshotId: snapshot.id, name: snapshot.name, chosenAt: new Date(clock()).toISOString() });
      o.say(`Snapshot ${name} (id ${snapshot.id}, ${snapshot.size_gigabytes} GB) is listed: ${o.server.id}'s next start boots it` +
        (sessions.length > 0 || hasSessions ? ` (--use-now: not its newest session snapshot ${sessions[0]?.name ?? ''}, whose world is not in it)` : ''));
    } else {
      o.say(`Snapshot ${name} (id ${snapshot.id}, ${snapshot.size_gigabytes} GB) is listed. ${o.server.id} still starts from its newest session snapshot ` +
        `${sessions[0]?.name ?? ''}: build with --use-now to start from the new image instead (its world, not the sessions')`);
    }
    failed = false;
    return { snapshot: { id: snapshot.id, name: snapshot.name, sizeGigabytes: snapshot.size_gigabytes }, logFile, usedNow };
  } catch (err) {
    if (o.signal?.aborted) throw new ImageBuildError(`Image build for ${o.server.id} was interrupted (log: ${logFile})`, { cause: err });
    throw new ImageBuildError(`Image build for ${o.server.id} failed: ${messageOf(err)}${messageOf(err).includes(logFile) ? '' : ` (log: ${logFile})`}`, { cause: err });
  } finally {
    await ssh.close();
    rmSync(secrets, { recursive: true, force: true });
    if (o.keepBuilder && builder) {
      o.say(`Kept builder droplet ${builder.id} at ${builder.ip} as asked; it bills until you run \`pulumi destroy --stack ood-image-${o.server.id}\` or delete it in the console`);
    }
    let removed = true;
    if (!(o.keepBuilder && builder)) {
      o.say(o.signal?.aborted ? 'Interrupted: removing the builder droplet…' : failed ? 'Removing the builder droplet after the failure…' : 'Removing the builder droplet…');
      await stackBusy;
      try {
        await stack.destroy(`ood: image build for ${o.server.id} ${o.signal?.aborted ? 'interrupted' : failed ? 'failed' : 'done'}`);
      } catch (err) {
        // A removal that fails after a failed build must not hide why the build failed: said here, the
        // build's own error stands (a throw in `finally` would replace it). The mark stays: see below.
        if (!failed) throw err;
        o.say(`Could not remove the builder droplet (${messageOf(err)}); it bills until you run \`pulumi destroy --stack ood-image-${o.server.id}\` or delete it in the console`);
        removed = false;
      }
    }
    // Only once the builder is gone (a failed destroy leaves the mark to a dead process: the orphan watch reports it).
    if (removed) release();
  }
}

/** `work`, or a rejection as soon as `signal` aborts (the work itself goes on; the caller cleans up after it). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new ImageBuildError('interrupted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ImageBuildError('interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function newestSnapshotOf(o: ImageBuildOptions): Promise<string> {
  const from = o.fromServer!;
  const scope = await scopeOf(o, from);
  // Proven by name (this process has no store): for a snapshot adopted by hand, pass its id as --base.
  const newest = ownSnapshots((await o.api.listSnapshots()).map(fromApi), scope, new Set())[0];
  if (!newest) throw new ImageBuildError(`Server ${from.id} has no snapshot ${scope.base}-${scope.installation}-${scope.server}-<unix seconds> to rebuild from (for one adopted by hand, pass its id as --base)`);
  o.say(`Rebuilding from ${from.id}'s newest snapshot ${newest.name}, world and all`);
  return newest.id;
}

/** Whose snapshots (snapshot-names.ts): the same scope the server's driver uses. */
async function scopeOf(o: ImageBuildOptions, server: ServerConfig): Promise<SnapshotScope> {
  return { base: server.digitalocean.snapshotPrefix ?? 'ood', installation: await installationId(o.config.dataDir), server: server.id };
}

/** Puts a world (directory, .zip or .tar.gz) into /srv/minecraft/world on the builder, before the playbook runs. */
async function uploadWorld(ssh: SshHost, target: Parameters<SshHost['exec']>[0], world: string, scratch: string): Promise<void> {
  if (!existsSync(world)) throw new ImageBuildError(`--world ${world} does not exist`);
  let dir = world;
  if (!statSync(world).isDirectory()) {
    dir = join(scratch, 'world');
    mkdirSync(dir);
    // Python's zipfile (Debian always has python3) unpacks a zip without a dependency; tar does the rest.
    if (/\.zip$/i.test(world)) execFileSync('python3', ['-m', 'zipfile', '-e', world, dir]);
    else execFileSync('tar', ['-xzf', world, '-C', dir]);
    // A zip of a world usually holds one top directory with level.dat inside.
    if (!existsSync(join(dir, 'level.dat'))) {
      const inner = execFileSync('find', [dir, '-maxdepth', '2', '-name', 'level.dat', '-printf', '%h\n'], { encoding: 'utf8' }).split('\n')[0];
      if (!inner) throw new ImageBuildError(`--world ${world} holds no level.dat: is it a Minecraft world?`);
      dir = inner;
    }
  } else if (!existsSync(join(dir, 'level.dat'))) {
    throw new ImageBuildError(`--world ${world} holds no level.dat: is it a Minecraft world?`);
  }
  const tarball = execFileSync('tar', ['-czf', '-', '-C', dir, '.'], { maxBuffer: 4 * 1024 ** 3 });
  const res = await ssh.exec(target, 'set -e; mkdir -p /srv/minecraft/world && tar -xzf - -C /srv/minecraft/world', { stdin: tarball, timeoutMs: 10 * 60_000 });
  if (res.code !== 0) throw new ImageBuildError(`Could not upload the world to the builder: ${res.stderr.trim().slice(0, 300)}`);
}

/** `--host`: only the playbook, on a machine the admin already has (SSH as root with their own keys). */
export async function playbookOnHost(o: Pick<ImageBuildOptions, 'config' | 'vars' | 'say'> & { host: string }): Promise<string> {
  const dir = join(o.config.dataDir, 'image-builds');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${Math.floor(Date.now() / 1000)}-${o.host.replace(/[^a-zA-Z0-9.-]/g, '_')}.log`);
  o.say(`Running the playbook on ${o.host} (log: ${logFile})`);
  const result = await runPlaybook({ host: o.host, user: 'root', extraVars: o.vars, logFile, onProgress: (p) => o.say(`  [${p.n}/${p.of}] ${p.task} (${Math.round(p.elapsedMs / 1000)} s)`) });
  o.say(`Playbook done in ${Math.round(result.elapsedMs / 1000)} s: ${result.changed} changed, ${result.ok} ok`);
  return logFile;
}
