import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { readmeCommands, REPO_ROOT } from './helpers/readme.js';

const run = promisify(execFile);

/**
 * README's quick start, its commands run as written by bash from the repository's root. The one
 * difference from a reader's run: OOD_CONFIG names a config on ports the OS found free, where the
 * embedded default would take 25565.
 */
describe("README's quick start, run as written", () => {
  let home: OodHome | undefined;
  let controller: ControllerProcess | undefined;
  let fakeHome: string | undefined;
  afterEach(async () => {
    await controller?.stop();
    await home?.cleanup();
    if (fakeHome) rmSync(fakeHome, { recursive: true, force: true });
    home = controller = fakeHome = undefined;
  });

  it('./ood starts, shows and stops the server; linked onto PATH it runs as plain `ood` anywhere', async () => {
    home = await makeOodHome();
    controller = await startControllerProcess(home.configPath);
    const env = { ...process.env, OOD_CONFIG: home.configPath, OOD_ADMIN_TOKEN: TEST_TOKEN };

    const commands = readmeCommands('./ood start world --wait');
    expect(commands.map((c) => c.replace(/#.*/, '').trim())).toEqual(['./ood start world --wait', './ood status', './ood stop world --wait']);
    const out: string[] = [];
    for (const command of commands) out.push((await run('bash', ['-c', command], { cwd: REPO_ROOT, env, timeout: 120_000 })).stdout);
    expect(out[0]).toContain('world is running at 127.0.0.1:');
    expect(out[1]).toMatch(/\nworld\s+running\s+up\s/);
    expect(out[2]).toContain('world is archived');
    expect(readdirSync(home.archiveDir()).filter((f) => /^ood-\d+\.tar\.gz$/.test(f))).toHaveLength(1);

    const link = readmeCommands('ln -s "$PWD/ood"');
    expect(link).toEqual(['ln -s "$PWD/ood" ~/.local/bin/ood']);
    fakeHome = mkdtempSync(join(tmpdir(), 'ood-home-'));
    mkdirSync(join(fakeHome, '.local', 'bin'), { recursive: true });
    await run('bash', ['-c', link[0]!], { cwd: REPO_ROOT, env: { ...env, HOME: fakeHome } });
    const anywhere = await run('ood', ['status'], { cwd: tmpdir(), env: { ...env, PATH: `${join(fakeHome, '.local', 'bin')}:${process.env.PATH}` } });
    expect(anywhere.stdout).toMatch(/\nworld\s+archived\s+down/);
  }, 240_000);
});
