import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './helpers/api.js';
import { startControllerProcess } from './helpers/controller-process.js';
import { makeOodHome, type OodHome } from './helpers/ood-home.js';
import { REPO_ROOT } from './helpers/readme.js';
import { waitUntil } from './helpers/wait.js';

// Colours and cursor codes that pino-pretty (and `script`) put around text on a terminal.
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');

/**
 * `ood serve` run as `npm start` runs it from a terminal: under a pseudo-terminal made by util-linux
 * `script`, until it listens; then SIGTERM, whose "Stopping the controller" line is an info log line.
 */
async function serveOnTerminal(home: OodHome, extraArgs: string[] = []): Promise<string> {
  const command = [process.execPath, join(REPO_ROOT, 'bin/ood.mjs'), 'serve', '--config', home.configPath, ...extraArgs].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, OOD_ADMIN_TOKEN: TEST_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntil('ood serve to listen', () => out.includes('OoD listening on') || child.exitCode !== null, 20_000);
    if (!out.includes('OoD listening on')) throw new Error(`ood serve ended before it listened:\n${out}`);
    // The controller's own pid (not script's): it writes it where `ood status` finds it.
    const info = join(home.dataDir, 'controller.json');
    await waitUntil('controller.json', () => existsSync(info), 5_000);
    process.kill((JSON.parse(readFileSync(info, 'utf8')) as { pid: number }).pid, 'SIGTERM');
    await exited;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  return plain(out);
}

describe('log lines: readable on a terminal, JSON for machines', () => {
  let home: OodHome | undefined;
  afterEach(async () => {
    await home?.cleanup();
    home = undefined;
  });
  const stopping = 'Stopping the controller; game processes keep running';

  it('on a terminal a log line reads as text: time, level, message, its fields', async () => {
    home = await makeOodHome({ config: { log: { level: 'info' } } });
    const out = await serveOnTerminal(home);
    const line = out.split('\n').find((l) => l.includes(stopping));
    expect(line, out).toMatch(/^\[\d\d:\d\d:\d\d(\.\d+)?\] INFO: Stopping the controller/);
    expect(line, out).toContain('signal');
    expect(out).not.toContain('"level":30');
  }, 60_000);

  it('--log-format json on a terminal, and no terminal at all, print one JSON object a line', async () => {
    home = await makeOodHome({ config: { log: { level: 'info' } } });
    const onTerminal = await serveOnTerminal(home, ['--log-format', 'json']);
    const line = onTerminal.split('\n').find((l) => l.includes(stopping));
    expect(JSON.parse(line!), onTerminal).toMatchObject({ level: 30, signal: 'SIGTERM' });

    const piped = await startControllerProcess(home.configPath);
    await piped.stop();
    // 'exit' can come before the last bytes of a pipe are read: wait for the line rather than assume it.
    const pipedLine = await waitUntil('the stopping line', () => piped.output().split('\n').find((l) => l.includes(stopping)), 5_000);
    expect(JSON.parse(pipedLine!), piped.output()).toMatchObject({ level: 30, signal: 'SIGTERM' });
  }, 60_000);

  it('a --log-format it does not know stops ood with the choices', async () => {
    home = await makeOodHome();
    const { ood } = await import('./helpers/ood-cli.js');
    const result = await ood(['serve', '--config', home.configPath, '--log-format', 'xml']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--log-format');
    expect(result.stderr).toMatch(/auto, pretty, json/);
  });
});
