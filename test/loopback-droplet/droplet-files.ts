import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { bundledGameCommand } from '../../controller/game/command.js';
import type { MachineSpec } from '../fake-do/machines.js';
import { hostKeyFromUserData } from './cloud-config.js';
import { bundledGamePaths, homeLends, type HomeLend } from './home-lends.js';

const run = promisify(execFile);

/**
 * Where a loopback droplet keeps things. `disk` is what a real droplet's disk would hold and what a
 * snapshot copies (only `srv/` for now); `machine` is what the imitation needs around it (configs with
 * this droplet's paths, its /run, logs) and never goes into a snapshot.
 */
export interface DropletPaths {
  dir: string;
  disk: string;
  /** The droplet's /srv, bound onto /srv inside its mount namespace. */
  srv: string;
  minecraft: string;
  machine: string;
  sshdConfig: string;
  hostKey: string;
  authorizedKeys: string;
  /** Bound onto /etc/supervisor inside the droplet, so a plain `supervisorctl` finds this droplet's. */
  supervisorDir: string;
  /** Bound onto /run inside the droplet; emptied at each boot, like a tmpfs. */
  run: string;
  supervisorSocket: string;
  /** Bound onto /root inside the droplet: root's home in SSH sessions. */
  home: string;
  log: string;
  init: string;
}

export function dropletPaths(baseDir: string, id: number): DropletPaths {
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
    sshdConfig: join(machine, 'etc', 'ssh', 'sshd_config'),
    hostKey: join(machine, 'etc', 'ssh', 'ssh_host_ed25519_key'),
    authorizedKeys: join(machine, 'etc', 'ssh', 'authorized_keys'),
    supervisorDir: join(machine, 'etc', 'supervisor'),
    run,
    supervisorSocket: join(run, 'supervisor.sock'),
    home: join(machine, 'root'),
    log: join(machine, 'log'),
    init: join(machine, 'init.sh'),
  };
}

/** What a distribution image brings: an empty /srv/minecraft with the droplet's address and no RCON. */
export async function writeFreshDisk(paths: DropletPaths): Promise<void> {
  await mkdir(paths.minecraft, { recursive: true });
  await writeFile(join(paths.minecraft, 'server.properties'), 'enable-rcon=false\n');
}

/**
 * Makes the game bind this droplet's address: on a real droplet it listens on every address, here
 * `server-ip` stands for "this machine", so a disk restored from another droplet's snapshot gets the
 * new droplet's address in place of the old one. Every other line is kept.
 */
export async function setServerIp(paths: DropletPaths, ipv4: string): Promise<void> {
  const file = join(paths.minecraft, 'server.properties');
  await mkdir(paths.minecraft, { recursive: true });
  const lines = existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '' && !/^\s*server-ip\s*[=:]/.test(line)) : [];
  await writeFile(file, `${[...lines, `server-ip=${ipv4}`].join('\n')}\n`);
}

/** Writes everything around the disk: host key, authorized keys, sshd and supervisord configs, init. */
export async function writeMachineFiles(paths: DropletPaths, spec: MachineSpec): Promise<void> {
  for (const dir of [join(paths.machine, 'etc', 'ssh'), join(paths.supervisorDir, 'conf.d'), paths.run, paths.home, paths.log]) {
    await mkdir(dir, { recursive: true });
  }
  await writeHostKey(paths, spec);
  await writeFile(paths.authorizedKeys, spec.authorizedKeys.map((key) => `${key.trim()}\n`).join(''), { mode: 0o600 });
  await writeFile(paths.sshdConfig, sshdConfig(paths, spec.ipv4));
  await writeFile(join(paths.supervisorDir, 'supervisord.conf'), supervisordConfig(paths));
  await writeFile(join(paths.supervisorDir, 'conf.d', 'minecraft.conf'), minecraftProgram(paths));
  // Made here, on the droplet's home dir, so init only binds: the mount points of what is lent back.
  const lends = homeLends(bundledGamePaths());
  for (const lend of lends) {
    const target = join(paths.home, lend.inHome);
    if (lend.directory) await mkdir(target, { recursive: true });
    else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, '', { flag: 'a' });
    }
  }
  await writeFile(paths.init, initScript(paths, spec, lends));
}

async function writeHostKey(paths: DropletPaths, spec: MachineSpec): Promise<void> {
  const given = hostKeyFromUserData(spec.userData);
  await rm(paths.hostKey, { force: true });
  await rm(`${paths.hostKey}.pub`, { force: true });
  if (given) {
    await writeFile(paths.hostKey, given.privateKey, { mode: 0o600 });
    await writeFile(`${paths.hostKey}.pub`, `${given.publicKey}\n`);
  } else {
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${spec.name}`, '-f', paths.hostKey], { timeout: 10_000 });
  }
}

function sshdConfig(paths: DropletPaths, ipv4: string): string {
  return `# sshd of a loopback droplet (test/loopback-droplet): the droplet contract's SSH, on its own address.
ListenAddress ${ipv4}:22
AddressFamily inet
HostKey ${paths.hostKey}
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthenticationMethods publickey
AuthorizedKeysFile ${paths.authorizedKeys}
UsePAM no
# The droplet's files live under a temp dir that is world-writable (/tmp); sshd would refuse them.
StrictModes no
AllowTcpForwarding yes
X11Forwarding no
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
`;
}

/** Debian's /etc/supervisor/supervisord.conf, with logs in the droplet's machine dir. */
function supervisordConfig(paths: DropletPaths): string {
  return `; supervisord of a loopback droplet (test/loopback-droplet), seen at /etc/supervisor inside it.
[unix_http_server]
file=/run/supervisor.sock
chmod=0700

[supervisord]
user=root
logfile=${supervisorValue(join(paths.log, 'supervisord.log'))}
pidfile=/run/supervisord.pid
childlogdir=${supervisorValue(paths.log)}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///run/supervisor.sock

[include]
files = /etc/supervisor/conf.d/*.conf
`;
}

/** The droplet contract's program `minecraft`, running OoD's bundled game in place of Java. */
function minecraftProgram(paths: DropletPaths): string {
  const command = bundledGameCommand().map(supervisorArg).join(' ');
  return `[program:minecraft]
command=${command}
directory=/srv/minecraft
autostart=false
autorestart=unexpected
stopsignal=TERM
stopwaitsecs=60
stdout_logfile=${supervisorValue(join(paths.log, 'minecraft.log'))}
redirect_stderr=true
environment=HOME="/root"
`;
}

/**
 * PID 1 of the droplet, run by `unshare --pid --mount`: it binds the droplet's /srv, /run, /root and
 * /etc/supervisor over the host's (visible only inside), with what the game runs from that lives
 * under the host's /root (a checkout cloned as root, node from nvm) lent back at the same paths inside
 * the droplet's /root, starts supervisord and sshd, and on SIGTERM
 * stops them as an OS shutdown would: supervisord first (it stops the game with SIGTERM and waits
 * `stopwaitsecs`), then sshd. When it exits the kernel kills whatever is left in its PID namespace.
 * Its stdin is a pipe from the test process: when that closes (the test process died without
 * `close()`), everything in the droplet is killed, so no droplet outlives its owner.
 */
function initScript(paths: DropletPaths, spec: MachineSpec, lends: readonly HomeLend[]): string {
  const q = shellQuote;
  // Bound into the droplet's home before that goes over /root, recursively both: a lent checkout
  // keeps what is mounted in it (a node_modules bound there), and the home keeps what is lent.
  const lent = lends.map((lend, i) => `mount --rbind ${q(lend.source)} ${q(join(paths.home, lend.inHome))} || exit ${20 + i}`);
  return `#!/bin/sh
# PID 1 of loopback droplet ${spec.id} (${spec.name.replace(/[^\w.-]/g, '_')}), written by test/loopback-droplet.
mount --bind ${q(paths.srv)} /srv || exit 10
mount --bind ${q(paths.run)} /run || exit 11
${lent.map((line) => `${line}\n`).join('')}mount --rbind ${q(paths.home)} /root || exit 12
mount --bind ${q(paths.supervisorDir)} /etc/supervisor || exit 13
mkdir -m 0755 /run/sshd || exit 14
cd /
/usr/bin/supervisord -n -c /etc/supervisor/supervisord.conf </dev/null >/dev/null &
SUPERVISORD=$!
/usr/sbin/sshd -D -f ${q(paths.sshdConfig)} -E ${q(join(paths.log, 'sshd.log'))} </dev/null &
SSHD=$!
shutdown() {
  echo "init: shutting down"
  kill -TERM "$SUPERVISORD"; wait "$SUPERVISORD"
  kill -TERM "$SSHD"; wait "$SSHD"
  echo "init: halted"
  exit 0
}
trap shutdown TERM
# A background job's stdin is /dev/null unless redirected; fd 3 carries the pipe to it.
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

/** supervisord expands %(name)s in values: a literal % is %%. */
function supervisorValue(value: string): string {
  return value.replace(/%/g, '%%');
}

/** One argument of a supervisord `command=`, which it splits with shlex. */
function supervisorArg(value: string): string {
  const escaped = supervisorValue(value);
  return /^[\w@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/(["\\$`])/g, '\\$1')}"`;
}
