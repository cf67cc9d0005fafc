import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MachineSpec } from '../fake-do/machines.js';
import { hostKeyFromUserData } from './cloud-config.js';
import type { DropletPaths } from './droplet-files.js';

const run = promisify(execFile);

/** A host path bound into every rootfs droplet's root at boot, at `target` inside it (default: the same path). */
export interface RootfsBind {
  source: string;
  target?: string;
  /** Default true: what a test lends a droplet (node, the repository) is not for it to change. */
  readOnly?: boolean;
}

/**
 * Where a rootfs droplet keeps things, in the shape every loopback droplet has (`DropletPaths`), so
 * boot and power-off are the same code: `disk` is a whole Debian root (what a snapshot holds), and
 * the configs are the root's own. Only `run` (bound onto `<root>/run`, emptied at each boot like a
 * tmpfs, and visible from the host so the boot check finds supervisord's socket), the logs and init
 * live beside it in `machine/`.
 */
export function rootfsPaths(baseDir: string, id: number): DropletPaths {
  const dir = join(baseDir, 'droplets', String(id));
  const disk = join(dir, 'disk');
  const machine = join(dir, 'machine');
  const run = join(machine, 'run');
  return {
    dir,
    disk,
    srv: join(disk, 'srv'),
    minecraft: join(disk, 'srv', 'minecraft'),
    machine,
    sshdConfig: join(disk, 'etc', 'ssh', 'sshd_config'),
    hostKey: join(disk, 'etc', 'ssh', 'ssh_host_ed25519_key'),
    authorizedKeys: join(disk, 'root', '.ssh', 'authorized_keys'),
    supervisorDir: join(disk, 'etc', 'supervisor'),
    run,
    // Debian's supervisord.conf puts it at /var/run/supervisor.sock, and /var/run is /run.
    supervisorSocket: join(run, 'supervisor.sock'),
    home: join(disk, 'root'),
    log: join(machine, 'log'),
    init: join(machine, 'init.sh'),
  };
}

/**
 * Does to the root what cloud-init does on a droplet's first boot from its user data: drops the
 * image's host keys (`ssh_deletekeys`), installs the given ed25519 host key (or makes one when the
 * user data has none), and puts the droplet's SSH keys in root's authorized_keys. Then writes init.
 */
export async function writeRootfsMachineFiles(paths: DropletPaths, spec: MachineSpec, binds: readonly RootfsBind[]): Promise<void> {
  for (const required of ['usr/sbin/sshd', 'usr/bin/supervisord', 'etc/supervisor/supervisord.conf']) {
    if (!existsSync(join(paths.disk, required))) throw new Error(`the root ${paths.disk} has no /${required}; a rootfs droplet needs openssh-server and supervisor installed in it`);
  }
  for (const dir of [paths.run, paths.log]) await mkdir(dir, { recursive: true });
  // The root's / is the droplet's: sshd's StrictModes and the game's user need it root-owned and 0755.
  await chmod(paths.disk, 0o755);
  const sshDir = join(paths.disk, 'etc', 'ssh');
  for (const name of await readdir(sshDir)) {
    if (name.startsWith('ssh_host_')) await rm(join(sshDir, name), { force: true });
  }
  const given = hostKeyFromUserData(spec.userData);
  if (given) {
    await writeFile(paths.hostKey, given.privateKey, { mode: 0o600 });
    await writeFile(`${paths.hostKey}.pub`, `${given.publicKey}\n`);
  } else {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${spec.name}`, '-f', paths.hostKey], { timeout: 10_000 });
  }
  await mkdir(join(paths.home, '.ssh'), { recursive: true, mode: 0o700 });
  await chmod(join(paths.home, '.ssh'), 0o700);
  await writeFile(paths.authorizedKeys, spec.authorizedKeys.map((key) => `${key.trim()}\n`).join(''), { mode: 0o600 });
  await writeFile(paths.init, rootfsInitScript(paths, spec, binds));
}

/**
 * PID 1 of a rootfs droplet, run by `unshare --pid --mount` like every loopback droplet's init: it
 * mounts what a booted Debian has (proc, sys, dev, /run, a tmpfs /tmp as trixie has) into the root,
 * binds what the test lends it, then runs the root's own supervisord and sshd chrooted into it, sshd
 * on the droplet's address only. Shutdown, the power cord and the end of every process are as in
 * `droplet-files.ts`. The mounts exist only in the droplet's mount namespace and go with it.
 */
export function rootfsInitScript(paths: DropletPaths, spec: MachineSpec, binds: readonly RootfsBind[]): string {
  const q = shellQuote;
  const root = paths.disk;
  const at = (inside: string) => q(join(root, inside));
  const lent = binds.map((bind, i) => {
    const target = at(bind.target ?? bind.source);
    const make = `if [ -d ${q(bind.source)} ]; then mkdir -p ${target}; else mkdir -p "$(dirname ${target})" && touch ${target}; fi`;
    const ro = bind.readOnly ?? true ? ` && mount -o remount,bind,ro ${target}` : '';
    return `${make} && mount --bind ${q(bind.source)} ${target}${ro} || exit ${30 + i}`;
  });
  return `#!/bin/sh
# PID 1 of rootfs droplet ${spec.id} (${spec.name.replace(/[^\w.-]/g, '_')}), written by test/loopback-droplet.
R=${q(root)}
mount --bind ${q(paths.run)} "$R/run" || exit 10
mount -t proc proc "$R/proc" || exit 11
mount --rbind /sys "$R/sys" || exit 12
mount --rbind /dev "$R/dev" || exit 13
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp" || exit 14
${lent.join('\n')}
mkdir -m 0755 "$R/run/sshd" || exit 15
mkdir -m 1777 "$R/run/lock" || exit 16
cd /
chroot "$R" /usr/bin/supervisord -n -c /etc/supervisor/supervisord.conf </dev/null >>${q(join(paths.log, 'supervisord.out'))} 2>&1 &
SUPERVISORD=$!
chroot "$R" /usr/sbin/sshd -D -e -o ListenAddress=${spec.ipv4}:22 -o AddressFamily=inet -o HostKey=/etc/ssh/ssh_host_ed25519_key </dev/null 2>>${q(join(paths.log, 'sshd.log'))} &
SSHD=$!
shutdown() {
  echo "init: shutting down"
  kill -TERM "$SUPERVISORD"; wait "$SUPERVISORD"
  kill -TERM "$SSHD"; wait "$SSHD"
  echo "init: halted"
  exit 0
}
trap shutdown TERM
exec 3<&0
(cat <&3 >/dev/null; echo "init: owner gone, killing everything"; kill -KILL -1) &
exec 3<&-
echo "init: booted"
wait
`;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
