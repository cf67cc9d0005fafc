import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshKeyPair } from '../../controller/drivers/digitalocean/keys.js';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusPing } from '../../controller/minecraft/status-ping.js';
import { debianRoot } from '../helpers/debian-root.js';
import { claimLoopbackBlock, freePortEverywhere, type LoopbackBlock } from '../helpers/loopback-block.js';
import { waitUntil } from '../helpers/wait.js';
import type { MachineSpec } from '../fake-do/machines.js';
import { LoopbackMachines } from './loopback-machines.js';
import { bundledGameInRoot, ROOTFS_PACKAGES } from './rootfs-game.js';
import { connectSsh, type Connected } from './ssh-test-client.js';

// Addresses in a loopback block this file claims, the game on a port the OS found free: no other
// process here (a second test run, an OoD) can hold them.
let block: LoopbackBlock | undefined;
let gamePort = 0;
const address = (n: number) => `${block!.ipBase}.${n}`;
const hostKey = sshKeyPair('ood-rootfs-test');
const ourKey = sshKeyPair();
const userData = `#cloud-config\n${stringify({ ssh_deletekeys: true, ssh_genkeytypes: [], ssh_keys: { ed25519_private: hostKey.private, ed25519_public: hostKey.public } })}`;
const game = bundledGameInRoot();

let baseDir: string;
let machines: LoopbackMachines;
const sessions: Connected[] = [];

/**
 * A root made by hand as the Ansible role would make it, thinly: a `minecraft` user, /srv/minecraft,
 * and the contract's supervisord program running OoD's bundled game from what the droplet is lent.
 */
async function handMadeRoot(): Promise<string> {
  const root = await debianRoot({ include: [...ROOTFS_PACKAGES] });
  execFileSync('chroot', [root, 'useradd', '--system', '--home-dir', '/srv/minecraft', '--shell', '/usr/sbin/nologin', 'minecraft']);
  mkdirSync(join(root, 'srv', 'minecraft'), { recursive: true });
  writeFileSync(join(root, 'srv', 'minecraft', 'server.properties'), `online-mode=false\nood-test-everybody-op=true\nenable-rcon=false\nserver-port=${gamePort}\n`);
  execFileSync('chroot', [root, 'chown', '-R', 'minecraft:minecraft', '/srv/minecraft']);
  writeFileSync(
    join(root, 'etc', 'supervisor', 'conf.d', 'minecraft.conf'),
    `[program:minecraft]
command=${game.command.join(' ')}
directory=/srv/minecraft
user=minecraft
environment=HOME="/srv/minecraft"
autostart=false
autorestart=unexpected
stopsignal=TERM
stopwaitsecs=60
stdout_logfile=/var/log/supervisor/minecraft.log
redirect_stderr=true
`,
  );
  return root;
}

/** Made before the tests: the first debootstrap on a machine (then cached) takes minutes. */
let prepared: string | undefined;

beforeAll(async () => {
  block = await claimLoopbackBlock();
  gamePort = await freePortEverywhere();
  baseDir = mkdtempSync(join(tmpdir(), 'ood-rootfs-'));
  prepared = await handMadeRoot();
  const distribution = async () => {
    const root = prepared ?? (await handMadeRoot());
    prepared = undefined;
    return root;
  };
  machines = new LoopbackMachines({ baseDir, rootfs: { distribution, binds: game.binds } });
}, 15 * 60_000);
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.end();
});
afterAll(async () => {
  await machines?.close();
  if (prepared) rmSync(prepared, { recursive: true, force: true });
  rmSync(baseDir, { recursive: true, force: true });
  block?.release();
});

function spec(id: number, ipv4: string, image: MachineSpec['image'] = { kind: 'distribution', slug: 'debian-13-x64' }): MachineSpec {
  return { id, name: `ood-rootfs-${id}`, ipv4, userData, authorizedKeys: [ourKey.public], image };
}

async function ssh(ipv4: string): Promise<Connected> {
  const session = await connectSsh(ipv4, { privateKey: ourKey.private }, hostKey.public);
  sessions.push(session);
  return session;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);
/** Mounts the host sees under the base dir: none ever, they live in the droplets' namespaces. */
const hostMountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(dir));

describe('a rootfs droplet', () => {
  it('boots a Debian root: its own sshd with the host key from user data, its own supervisord running the game as its minecraft user', async () => {
    const ip = address(2);
    await machines.create(spec(1, ip));
    const session = await ssh(ip);
    // Debian 13 inside, whatever the host runs: the session is in the root.
    expect((await session.exec('cat /etc/debian_version')).stdout).toMatch(/^13\./);
    expect((await session.exec('id -un; ls /root/.ssh')).stdout).toBe('root\nauthorized_keys\n');
    expect((await session.exec('supervisorctl start minecraft')).stdout).toMatch(/minecraft: started/);
    await waitUntil('the game to answer a status ping', () => statusPing(ip, gamePort), 60_000, 250);
    expect((await session.exec('stat -c %U /proc/$(supervisorctl pid minecraft)')).stdout).toBe('minecraft\n');
    expect((await session.exec('cat /srv/minecraft/server.properties')).stdout).toContain(`server-ip=${ip}`);
    expect(hostMountsUnder(baseDir)).toEqual([]);

    const pids = await machines.processes(1);
    await machines.powerOff(1, true);
    expect(pids.filter(alive)).toEqual([]);
    // supervisord (the root's own, logging inside it) stopped the game with SIGTERM and it saved.
    const log = readFileSync(join(machines.paths(1).disk, 'var', 'log', 'supervisor', 'supervisord.log'), 'utf8');
    expect(log).toMatch(/stopped: minecraft \(exit status \d+\)/);
    expect(existsSync(join(machines.paths(1).minecraft, 'world', 'level.dat'))).toBe(true);
  }, 240_000);

  it('snapshots the root with numeric owners and without /proc, /dev, /run, and a droplet made from it boots with the same world', async () => {
    const archive = join(baseDir, 'snapshot-1.tar.zst');
    await machines.snapshot(1, archive);
    const listing = execFileSync('tar', ['--list', '--verbose', '--numeric-owner', '--file', archive], { maxBuffer: 256 * 1024 * 1024 }).toString();
    const minecraftUid = readFileSync(join(machines.paths(1).disk, 'etc', 'passwd'), 'utf8').match(/^minecraft:x:(\d+):/m)![1];
    expect(listing).toMatch(new RegExp(`^\\S+ ${minecraftUid}/\\d+ .* \\./srv/minecraft/world/level\\.dat$`, 'm'));
    expect(listing).not.toMatch(/ \.\/(proc|sys|dev|run)\/./);

    const ip = address(3);
    await machines.create(spec(2, ip, { kind: 'snapshot', id: 'snap-1', archive }));
    const session = await ssh(ip);
    expect((await session.exec('stat -c %U /srv/minecraft/world/level.dat')).stdout).toBe('minecraft\n');
    const props = (await session.exec('cat /srv/minecraft/server.properties')).stdout;
    expect(props).toContain(`server-ip=${ip}`);
    expect(props).not.toContain(address(2));
    expect((await session.exec('supervisorctl start minecraft')).stdout).toMatch(/minecraft: started/);
    await waitUntil('the game to answer a status ping', () => statusPing(ip, gamePort), 60_000, 250);
  }, 240_000);

  it('kills everything on destroy and leaves no mount behind', async () => {
    const running = [...(await machines.processes(1)), ...(await machines.processes(2))];
    const dirs = [machines.paths(1).dir, machines.paths(2).dir];
    await machines.destroy(1);
    await machines.destroy(2);
    expect(running.filter(alive)).toEqual([]);
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
    expect(hostMountsUnder(baseDir)).toEqual([]);
  }, 60_000);
});
