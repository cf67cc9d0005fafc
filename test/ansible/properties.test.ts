import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianRoot } from '../helpers/debian-root.js';
import { mountsUnder, playInChroot } from './chroot-playbook.js';

const RUN_TIMEOUT_MS = 5 * 60_000;

/**
 * The server.properties the role writes, on a debootstrap root through the chroot connection, only the
 * `minecraft` tag (no apt; ~10–40 s). The full run's checks of RCON and the firewall are in chroot-run.test.ts.
 */
describe('the minecraft_host role writes server.properties', () => {
  let root = '';
  let work = '';

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ood-ansible-props-'));
    root = await debianRoot({ include: ['python3', 'python3-apt'] });
    writeFileSync(join(root, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  }, 10 * 60_000);

  afterAll(() => {
    const left = root ? mountsUnder(root) : [];
    if (root && left.length === 0) rmSync(root, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
    if (left.length > 0) throw new Error(`Mounts left under ${root}: ${left.join(', ')}; unmount them, then remove the directory`);
  });

  it('with accepts-transfers=true, so players the waiting room transfers are let in, and one line of each key', async () => {
    writeFileSync(join(work, 'server.jar'), 'a stand-in jar: never started here\n');
    writeFileSync(join(work, 'vars.json'), JSON.stringify({ minecraft_accept_eula: true, minecraft_server_jar_src: join(work, 'server.jar') }));
    const result = await playInChroot(root, join(work, 'vars.json'), RUN_TIMEOUT_MS, ['--tags', 'minecraft']);
    expect(result.code, result.output.slice(-6000)).toBe(0);
    const props = readFileSync(join(root, 'srv/minecraft/server.properties'), 'utf8');
    expect(props.match(/^accepts-transfers=.*$/gm)).toEqual(['accepts-transfers=true']);
    const keys = props.split('\n').filter((l) => /^[^#\s]/.test(l)).map((l) => l.split('=')[0]);
    expect(keys.length).toBe(new Set(keys).size);
  }, RUN_TIMEOUT_MS + 60_000);
});
