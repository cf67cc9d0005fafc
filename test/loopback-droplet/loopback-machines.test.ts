import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Rcon } from 'rcon-client';
import { sshKeyPair } from '../../controller/drivers/digitalocean/keys.js';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statusPing } from '../../controller/minecraft/status-ping.js';
import { claimLoopbackBlock, freePortEverywhere, type LoopbackBlock } from '../helpers/loopback-block.js';
import { waitUntil } from '../helpers/wait.js';
import type { MachineSpec } from '../fake-do/machines.js';
import { LoopbackMachines } from './loopback-machines.js';
import { connectSsh, type Connected } from './ssh-test-client.js';

// Addresses in a loopback block this file claims, game and RCON on ports the OS found free: no other
// process here (a second test run, an OoD) can hold them.
let block: LoopbackBlock | undefined;
let gamePort = 0;
let rconPort = 0;
const address = (n: number) => `${block!.ipBase}.${n}`;
const hostKey = sshKeyPair('ood-loopback-test');
const ourKey = sshKeyPair();
const userData = `#cloud-config\n${stringify({ ssh_deletekeys: true, ssh_genkeytypes: [], ssh_keys: { ed25519_private: hostKey.private, ed25519_public: hostKey.public } })}`;

let baseDir: string;
let machines: LoopbackMachines;
const sessions: Connected[] = [];

beforeAll(async () => {
  block = await claimLoopbackBlock();
  gamePort = await freePortEverywhere();
  do rconPort = await freePortEverywhere();
  while (rconPort === gamePort);
  baseDir = mkdtempSync(join(tmpdir(), 'ood-loopback-'));
  machines = new LoopbackMachines({ baseDir });
});
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.end();
});
afterAll(async () => {
  await machines.close();
  rmSync(baseDir, { recursive: true, force: true });
  block?.release();
});

function spec(id: number, ipv4: string, image: MachineSpec['image'] = { kind: 'distribution', slug: 'debian-12-x64' }, data = userData): MachineSpec {
  return { id, name: `ood-test-${id}`, ipv4, userData: data, authorizedKeys: [ourKey.public], image };
}

async function ssh(ipv4: string, hostPublicKey = hostKey.public): Promise<Connected> {
  const session = await connectSsh(ipv4, { privateKey: ourKey.private }, hostPublicKey);
  sessions.push(session);
  return session;
}

async function gameRunning(session: Connected): Promise<void> {
  // The program does not autostart (the droplet contract): OoD starts it, and so does this test.
  await session.exec('supervisorctl start minecraft');
  await waitUntil('supervisorctl to report minecraft RUNNING', async () => /^minecraft\s+RUNNING/m.test((await session.exec('supervisorctl status minecraft')).stdout), 30_000, 250);
}

/** Writes server.properties as OoD's driver does: a temp file and a rename, in plain sh. */
async function writeProperties(session: Connected, lines: string[]): Promise<void> {
  const written = await session.exec('cat > /srv/minecraft/server.properties.tmp && mv /srv/minecraft/server.properties.tmp /srv/minecraft/server.properties', `${lines.join('\n')}\n`);
  expect(written.code, written.stderr).toBe(0);
}

function worldFiles(minecraftDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(minecraftDir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(join(minecraftDir, 'world'));
  return files;
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

describe('a loopback droplet', () => {
  it('serves SSH with the host key from user data, runs the game under supervisord, tunnels RCON, and saves on a graceful power-off', async () => {
    const ip = address(200);
    await machines.create(spec(200, ip));
    const session = await ssh(ip);
    expect((await session.exec('cat /srv/minecraft/server.properties')).stdout).toContain(`server-ip=${ip}`);
    // A fresh disk names no port, and the game's default is 25565: another process's, maybe.
    await writeProperties(session, [`server-ip=${ip}`, `server-port=${gamePort}`, 'enable-rcon=false']);
    await gameRunning(session);

    expect((await session.exec('echo made-on-200 > /srv/minecraft/marker.txt')).code).toBe(0);
    await writeProperties(session, [`server-ip=${ip}`, `server-port=${gamePort}`, 'enable-rcon=true', `rcon.port=${rconPort}`, 'rcon.password=s3cret', 'online-mode=false']);
    // The write landed on this droplet's disk, not on the host's /srv.
    expect(readFileSync(join(machines.paths(200).minecraft, 'server.properties'), 'utf8')).toContain('rcon.password=s3cret');
    expect(existsSync('/srv/minecraft')).toBe(false);
    expect((await session.exec('supervisorctl restart minecraft')).stdout).toMatch(/minecraft: started/);
    await gameRunning(session);

    const localPort = await session.forward(ip, rconPort);
    const gameLog = join(machines.paths(200).log, 'minecraft.log');
    await waitUntil('the game to open RCON', () => readFileSync(gameLog, 'utf8').includes(`RCON running on ${ip}:${rconPort}`), 30_000, 200);
    const rcon = new Rcon({ host: '127.0.0.1', port: localPort, password: 's3cret', timeout: 5_000 });
    rcon.on('error', () => undefined); // a failed send rejects; the event would only repeat it
    await rcon.connect();
    try {
      expect(await rcon.send('list')).toMatch(/^There are 0 of a max of \d+ players online/);
      // As OoD stops a server: save-all, then the shutdown.
      expect(await rcon.send('save-all')).toMatch(/Saved the game/);
    } finally {
      await rcon.end();
    }
    const status = await statusPing(ip, gamePort);
    expect(status.players.online).toBe(0);
    // RCON is not on the host's loopback: only the tunnel reaches it.
    expect(await refused('127.0.0.1', rconPort)).toBe(true);

    const pids = await machines.processes(200);
    expect(pids.length).toBeGreaterThanOrEqual(5); // init, its watcher, sshd, supervisord, the game, this session
    await machines.powerOff(200, true);
    expect(machines.isOn(200)).toBe(false);
    expect(await machines.processes(200)).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
    expect(await refused(ip, 22)).toBe(true);
    expect(await refused(ip, gamePort)).toBe(true);
    // supervisord stopped the game with SIGTERM and it exited by itself, before any SIGKILL.
    const supervisorLog = readFileSync(join(machines.paths(200).log, 'supervisord.log'), 'utf8');
    expect(supervisorLog).toMatch(/received SIGTERM indicating exit request[\s\S]*stopped: minecraft \(exit status \d+\)/);
    expect(supervisorLog).not.toMatch(/killing 'minecraft'/);
    expect([...worldFiles(machines.paths(200).minecraft).keys()]).toContain('world/level.dat');
  });

  it('snapshots a disk into an archive that a new droplet boots from with the same world', async () => {
    const archive = join(baseDir, 'snapshot-200.tar.gz');
    const { bytes } = await machines.snapshot(200, archive);
    expect(bytes).toBeGreaterThan(200);
    const before = worldFiles(machines.paths(200).minecraft);

    const ip = address(201);
    await machines.create(spec(201, ip, { kind: 'snapshot', id: 'snap-1', archive }));
    // Compared before the game can autosave into it.
    expect(worldFiles(machines.paths(201).minecraft)).toEqual(before);
    const session = await ssh(ip);
    await gameRunning(session);
    const props = (await session.exec('cat /srv/minecraft/server.properties')).stdout;
    expect(props).toContain(`server-ip=${ip}`);
    expect(props).not.toContain(address(200));
    expect(props).toContain('rcon.password=s3cret');
    expect((await session.exec('cat /srv/minecraft/marker.txt')).stdout).toBe('made-on-200\n');
    const status = await waitUntil('the game to answer a status ping', () => statusPing(ip, gamePort), 30_000, 250);
    expect(status.version.name).toBe('1.21.4');
  });

  it('refuses a password and a key it was not given', async () => {
    await expect(connectSsh(address(201), { password: 'root' }, hostKey.public)).rejects.toThrow(/authentication methods failed/);
    const stranger = sshKeyPair();
    await expect(connectSsh(address(201), { privateKey: stranger.private }, hostKey.public)).rejects.toThrow(/authentication methods failed/);
    // And the client refuses a host that shows another key.
    await expect(connectSsh(address(201), { privateKey: ourKey.private }, stranger.public)).rejects.toThrow(/verification failed/i);
  });

  it('kills everything on a hard power-off, starts the game again after a power-on, and removes it all on destroy', async () => {
    const ip = address(201);
    const session = await ssh(ip);
    // A session that would outlive sshd on a careless shutdown.
    void session.exec('sleep 600').catch(() => undefined);
    await waitUntil('the sleep to start', async () => (await session.exec('pgrep -x sleep')).code === 0, 10_000, 200);
    const pids = await machines.processes(201);
    await machines.powerOff(201, false);
    expect(await machines.processes(201)).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);

    await machines.powerOn(201);
    expect(machines.isOn(201)).toBe(true);
    await gameRunning(await ssh(ip));
    const dir = machines.paths(201).dir;
    const running = await machines.processes(201);
    await machines.destroy(201);
    expect(existsSync(dir)).toBe(false);
    expect(running.filter(alive)).toEqual([]);
    expect(() => machines.paths(201)).toThrow(/no loopback droplet 201/);
  });

  it('generates a host key when the user data gives none', async () => {
    const ip = address(202);
    await machines.create(spec(202, ip, undefined, ''));
    const generated = readFileSync(`${machines.paths(202).hostKey}.pub`, 'utf8').trim();
    expect(generated).toMatch(/^ssh-ed25519 /);
    expect(generated).not.toContain(hostKey.public.split(' ')[1]!);
    const session = await ssh(ip, generated);
    await writeProperties(session, [`server-ip=${ip}`, `server-port=${gamePort}`, 'enable-rcon=false']);
    await gameRunning(session);
    // A second droplet on a taken address fails, and leaves nothing behind.
    await expect(machines.create(spec(203, ip))).rejects.toThrow(`already answers SSH on ${ip}:22`);
    expect(existsSync(join(baseDir, 'droplets', '203'))).toBe(false);
    await machines.destroy(202);
  });
});
