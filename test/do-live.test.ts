import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { DoClient } from '../controller/drivers/digitalocean/api/client.js';
import { apiFor } from './helpers/api.js';
import { startControllerProcess, type ControllerProcess } from './helpers/controller-process.js';
import { waitUntil } from './helpers/wait.js';

/**
 * One real cycle on a real DigitalOcean account, for people who have one: `OOD_LIVE_DO=1`,
 * `DIGITALOCEAN_TOKEN`, the `pulumi` CLI on PATH, and a base image snapshot `<prefix>-<unix seconds>`
 * made by `ood image build` (prefix `OOD_LIVE_PREFIX`, default `ood`). The smallest droplet that runs
 * Minecraft (`OOD_LIVE_SIZE`, default s-1vcpu-2gb) is started and stopped once; the droplet and the
 * snapshot the test took are removed, the base image is kept. It costs a few cents.
 */
const token = process.env.DIGITALOCEAN_TOKEN;
const pulumiOnPath = (() => {
  try {
    execFileSync('pulumi', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const missing = [process.env.OOD_LIVE_DO === '1' ? '' : 'OOD_LIVE_DO=1', token ? '' : 'DIGITALOCEAN_TOKEN', pulumiOnPath ? '' : 'the pulumi CLI on PATH'].filter(Boolean);
if (missing.length > 0) console.log(`Skipping the live DigitalOcean test: it needs ${missing.join(', ')} (it creates a real droplet)`);

describe.skipIf(missing.length > 0)('live on DigitalOcean', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ood-live-'));
  const prefix = process.env.OOD_LIVE_PREFIX ?? 'ood';
  let controller: ControllerProcess | undefined;
  const api = new DoClient({ baseUrl: 'https://api.digitalocean.com', token: token ?? '' });
  let before: string[] = [];
  afterAll(async () => {
    await controller?.stop();
    // Whatever the outcome: no droplet of this test left billing, no snapshot of it left.
    for (const d of await api.listDroplets('ood-live')) await api.deleteDroplet(d.id);
    for (const s of await api.listSnapshots()) if (s.name.startsWith(`${prefix}-`) && !before.includes(s.id)) await api.deleteSnapshot(s.id);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a droplet from the newest snapshot, stops it into a new one, and removes it', async () => {
    before = (await api.listSnapshots()).map((s) => s.id);
    const config = {
      dataDir: './data',
      listen: { host: '127.0.0.1', port: 0 },
      servers: [{ id: 'live', driver: 'digitalocean', digitalocean: { size: process.env.OOD_LIVE_SIZE ?? 's-1vcpu-2gb', snapshotPrefix: prefix, keepSnapshots: 100 } }],
    };
    writeFileSync(join(dir, 'ood.yaml'), stringify(config));
    controller = await startControllerProcess(join(dir, 'ood.yaml'), { PULUMI_CONFIG_PASSPHRASE: 'ood-live-test' });
    const ood = apiFor(controller.url);
    await ood.start('live');
    const running = await waitUntil('running', async () => {
      const s = await ood.server('live');
      if (s.phase === 'failed') throw new Error(`failed: ${s.lastError}`);
      return s.phase === 'running' && s;
    }, 15 * 60_000, 5_000);
    expect(running.address).toMatch(/^\d+\.\d+\.\d+\.\d+:25565$/);
    await ood.stop('live');
    await waitUntil('archived', async () => (await ood.server('live')).phase === 'archived', 30 * 60_000, 5_000);
    expect(await api.listDroplets('ood-live')).toEqual([]);
  }, 60 * 60_000);
});
