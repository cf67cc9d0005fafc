import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianRoot } from '../helpers/debian-root.js';
import { mountsUnder, playInChroot, playRecap, processesRootedIn, runCommand, type CommandResult } from './chroot-playbook.js';

const RUN_TIMEOUT_MS = 12 * 60_000;
const RCON_PORT = 25575;
const GAME_PORT = 25565;

/*
 * The role run for real, twice, against a fresh Debian 13 root through the chroot connection: apt
 * installs Java, supervisor, sshd, nftables and cloud-init from Debian's mirror inside the root. The
 * jar is a local dummy file; nothing is downloaded from Mojang.
 */
describe('the minecraft_host role on a debootstrap root', () => {
  let root = '';
  let work = '';
  let first: CommandResult | undefined;
  let second: CommandResult | undefined;
  const inRoot = (path: string) => join(root, path);
  const read = (path: string) => readFileSync(inRoot(path), 'utf8');

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ood-ansible-test-'));
    root = await debianRoot({ include: ['python3', 'python3-apt'] });
    // Debian's way to keep package scripts from starting daemons inside a chroot.
    writeFileSync(inRoot('usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    const jar = Buffer.from('not a real server jar: this test never starts it\n');
    writeFileSync(join(work, 'server.jar'), jar);
    writeFileSync(join(work, 'vars.json'), JSON.stringify({
      minecraft_server_jar_src: join(work, 'server.jar'),
      minecraft_server_sha256: createHash('sha256').update(jar).digest('hex'),
      minecraft_server_port: GAME_PORT,
      minecraft_rcon_port: RCON_PORT,
      minecraft_prepare_snapshot: true,
    }));
  }, 10 * 60_000);

  afterAll(() => {
    // Never rm -rf through a mount: if anything were still mounted under the root, leave it for a human.
    const left = root ? mountsUnder(root) : [];
    if (root && left.length === 0) rmSync(root, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`Mounts left under ${root}: ${left.join(', ')}; unmount them, then remove the directory`);
  });

  it('runs once, then again with nothing changed', async () => {
    first = await playInChroot(root, join(work, 'vars.json'), RUN_TIMEOUT_MS);
    console.log(`ansible chroot run 1: ${(first.ms / 1000).toFixed(1)} s`);
    expect(first.code, first.output.slice(-6000)).toBe(0);
    expect(playRecap(first.output, root)).toMatchObject({ failed: 0, unreachable: 0 });
    expect(playRecap(first.output, root).changed).toBeGreaterThan(0);
    const passwordAfterFirst = /^rcon\.password=(\S+)$/m.exec(read('srv/minecraft/server.properties'))?.[1];

    second = await playInChroot(root, join(work, 'vars.json'), RUN_TIMEOUT_MS);
    console.log(`ansible chroot run 2: ${(second.ms / 1000).toFixed(1)} s`);
    expect(second.code, second.output.slice(-6000)).toBe(0);
    const changedTasks = second.output.split('\n').filter((l) => l.startsWith('changed:')).join('\n');
    expect(playRecap(second.output, root), changedTasks).toMatchObject({ changed: 0, failed: 0, unreachable: 0 });
    // Made on the host the first time and kept after.
    expect(passwordAfterFirst).toMatch(/^[\w-]{24,}$/);
    expect(read('srv/minecraft/server.properties')).toContain(`rcon.password=${passwordAfterFirst ?? 'none'}\n`);
  }, 2 * RUN_TIMEOUT_MS + 60_000);

  it('left no mount and no process behind', () => {
    expect(mountsUnder(root)).toEqual([]);
    expect(processesRootedIn(root)).toEqual([]);
  });

  it('made the minecraft user and /srv/minecraft owned by it', () => {
    const passwd = read('etc/passwd').split('\n').find((l) => l.startsWith('minecraft:'));
    expect(passwd).toMatch(/^minecraft:x:\d+:\d+:[^:]*:\/srv\/minecraft:\/usr\/sbin\/nologin$/);
    const uid = passwd?.split(':')[2];
    expect(uid).toBeDefined();
    const group = read('etc/group').split('\n').find((l) => l.startsWith('minecraft:'));
    expect(group).toBeDefined();
    expect(read('srv/minecraft/eula.txt')).toMatch(/^eula=false$/m);
    expect(existsSync(inRoot('srv/minecraft/server.jar'))).toBe(true);
  });

  it('turned RCON on in server.properties, with RCON private behind the firewall', () => {
    const props = read('srv/minecraft/server.properties');
    expect(props).toMatch(/^enable-rcon=true$/m);
    expect(props).toMatch(new RegExp(`^rcon\\.port=${RCON_PORT}$`, 'm'));
    expect(props).toMatch(new RegExp(`^server-port=${GAME_PORT}$`, 'm'));
    // server-ip empty: RCON listens on every address, so the firewall is what keeps it private.
    expect(props).toMatch(/^server-ip=$/m);
    const rules = read('etc/nftables.conf');
    expect(rules).toMatch(/chain input \{\s*type filter hook input priority filter; policy drop;/);
    expect(rules).toMatch(new RegExp(`tcp dport ${GAME_PORT} accept`));
    expect(rules).toMatch(/tcp dport 22 accept/);
    expect(rules).not.toMatch(new RegExp(`dport\\s+${RCON_PORT}\\b`));
  });

  it('wrote nftables rules that nft accepts', async () => {
    // Checked in a new, empty network namespace: nothing touches this machine's firewall.
    const check = await runCommand('unshare', ['--net', 'chroot', root, '/usr/sbin/nft', '--check', '--file', '/etc/nftables.conf'], { timeoutMs: 30_000 });
    expect(check.code, check.output).toBe(0);
  });

  it('defined the supervisord program minecraft: not autostarted, run as minecraft, stopped by SIGTERM', () => {
    const conf = read('etc/supervisor/conf.d/minecraft.conf');
    expect(conf).toMatch(/^\[program:minecraft\]$/m);
    expect(conf).toMatch(/^autostart=false$/m);
    expect(conf).toMatch(/^user=minecraft$/m);
    expect(conf).toMatch(/^directory=\/srv\/minecraft$/m);
    expect(conf).toMatch(/^stopsignal=TERM$/m);
    expect(conf).toMatch(/^stopwaitsecs=90$/m);
    const heap = /^command=\/usr\/bin\/java -Xms(\d+)M -Xmx(\d+)M -jar \/srv\/minecraft\/server\.jar nogui$/m.exec(conf);
    expect(heap, conf).not.toBeNull();
    expect(Number(heap?.[2])).toBeGreaterThanOrEqual(512);
    expect(existsSync(inRoot('usr/bin/java'))).toBe(true);
  });

  it('allows SSH with keys only, as sshd itself reads its configuration', async () => {
    expect(read('etc/ssh/sshd_config.d/00-ood-keys-only.conf')).toMatch(/^PasswordAuthentication no$/m);
    // sshd -T prints the effective settings; it needs a host key (the snapshot clean-up removed them).
    const keyDir = inRoot('tmp/ood-test-hostkey');
    mkdirSync(keyDir, { recursive: true });
    mkdirSync(inRoot('run/sshd'), { recursive: true });
    const keygen = await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'key')], { timeoutMs: 30_000 });
    expect(keygen.code, keygen.output).toBe(0);
    const effective = await runCommand('chroot', [root, '/usr/sbin/sshd', '-T', '-h', '/tmp/ood-test-hostkey/key'], { timeoutMs: 30_000 });
    rmSync(keyDir, { recursive: true, force: true });
    expect(effective.code, effective.output).toBe(0);
    expect(effective.output).toMatch(/^passwordauthentication no$/m);
    expect(effective.output).toMatch(/^kbdinteractiveauthentication no$/m);
    expect(effective.output).toMatch(/^permitrootlogin without-password$/m);
    expect(effective.output).toMatch(/^allowtcpforwarding local$/m);
  });

  it('kept cloud-init, with root allowed to log in by key', () => {
    expect(existsSync(inRoot('usr/bin/cloud-init'))).toBe(true);
    expect(existsSync(inRoot('etc/cloud/cloud-init.disabled'))).toBe(false);
    expect(read('etc/cloud/cloud.cfg.d/90-ood.cfg')).toMatch(/^disable_root: false$/m);
  });

  it('cleaned up for a snapshot: no host keys, empty machine id, no downloaded packages', () => {
    expect(readdirSync(inRoot('etc/ssh')).filter((f) => f.startsWith('ssh_host_'))).toEqual([]);
    expect(read('etc/machine-id')).toBe('');
    expect(readdirSync(inRoot('var/cache/apt/archives')).filter((f) => f.endsWith('.deb'))).toEqual([]);
  });
});
