import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { realPulumiBinDir } from './helpers/real-pulumi.js';
import { ood } from './helpers/ood-cli.js';

/** What a new user of the DigitalOcean driver hits first: a missing CLI or token says what to do. */
describe('starting OoD with a DigitalOcean server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ood-do-startup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = (pulumi: Record<string, string>) => {
    const path = join(dir, 'ood.yaml');
    writeFileSync(path, stringify({ dataDir: './data', listen: { port: 0 }, pulumi, servers: [{ id: 'survival', driver: 'digitalocean' }] }));
    return path;
  };
  // No DigitalOcean variables from the machine running the tests.
  const clean = { DIGITALOCEAN_TOKEN: '', DIGITALOCEAN_API_URL: '', OOD_ADMIN_TOKEN: 'startup-test-token' };

  it('without a pulumi CLI stops at once, saying how to install it or set pulumi.command', async () => {
    const res = await ood(['serve', '--config', config({ command: '/nonexistent/bin/pulumi' })], { env: { ...clean, DIGITALOCEAN_TOKEN: 'dop_v1_x' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/survival on driver digitalocean: Could not run the Pulumi CLI \(\/nonexistent\/bin\/pulumi\).*https:\/\/www\.pulumi\.com\/docs\/install\/.*pulumi\.command/);
  });

  it('without DIGITALOCEAN_TOKEN stops at once, saying where to get one', async () => {
    const res = await ood(['serve', '--config', config({ command: `${await realPulumiBinDir()}/pulumi` })], { env: clean });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/survival uses driver digitalocean, but DIGITALOCEAN_TOKEN is not set: create a read\/write token/);
  });

  it('config check describes the droplet it would make', async () => {
    // config check refuses what serve refuses, a missing token too: it is given one here.
    const res = await ood(['config', 'check', '--config', config({ command: `${await realPulumiBinDir()}/pulumi` })], { env: { ...clean, DIGITALOCEAN_TOKEN: 'dop_v1_x' } });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/survival: digitalocean driver.*\n\s+droplet: s-1vcpu-2gb in fra1, from the newest of its own snapshots ood-<installation>-survival-<unix seconds> \(or adopted\), keeps 1; SSH from 0\.0\.0\.0\/0, ::\/0\n\s+copies: every 30m while people play and after each stop, keeps 6 in servers\/survival\/copies\/ of the data dir\n/);
  });
});
