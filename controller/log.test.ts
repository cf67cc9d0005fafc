import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { waitUntil } from '../test/helpers/wait.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './config/load.js';
import { Controller } from './controller.js';
import { createLogger } from './log.js';

describe('log lines', () => {
  it('name each key once: a driver line has one component', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    const dir = mkdtempSync(join(tmpdir(), 'ood-log-'));
    const config = parseConfig({ dataDir: dir, log: { level: 'debug' }, servers: [{ id: 'world' }] }, dir);
    // A damaged archive makes the driver log (it sets the archive aside) while the loop logs its steps.
    mkdirSync(join(dir, 'servers', 'world', 'archives'), { recursive: true });
    writeFileSync(join(dir, 'servers', 'world', 'archives', 'ood-1.tar.gz'), 'not an archive');
    const controller = Controller.open(config, { log: createLogger('debug', sink), childEnv: {} });
    try {
      controller.start();
      controller.want('world', 'up', { actor: 'test', source: 'test' });
      await waitUntil('the driver to log', () => lines.some((l) => l.includes('"component":"driver"')), 10_000);
    } finally {
      await controller.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.match(/"component":/g)?.length ?? 0, line).toBeLessThanOrEqual(1);
  });
});
