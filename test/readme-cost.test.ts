import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { usd } from '../controller/cost/billing.js';
import { headline } from './bench/cost.js';
import { REPO_ROOT } from './helpers/readme.js';

/** README's cost headline is what OoD's own meter says for the default config, not a figure kept by hand. */
describe("README's cost headline", () => {
  it('quotes the default size, its always-on price and the meter’s month with copies on (the default) and off, and on the 1 GB size', () => {
    const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
    const paragraph = readme.split('\n\n').find((p) => p.startsWith('The headline:'));
    expect(paragraph, 'README has a paragraph starting "The headline:"').toBeDefined();
    const text = paragraph!.replace(/\s+/g, ' ');
    const now = headline();
    const without = headline({ backups: false });
    const small = headline({ size: 's-1vcpu-1gb' });
    expect([now.keepSnapshots, without.keepSnapshots]).toEqual([1, 2]);
    expect(text).toContain(`\`${now.size}\` (${usd(now.alwaysOn)} a month always on)`);
    expect(text).toContain(`**${usd(now.total)}** a month`);
    expect(text).toContain(`droplet ${usd(now.droplets)}, snapshots ${usd(now.snapshots)}`);
    expect(text).toContain(`**${usd(without.total)}** without copies`);
    expect(text).toContain(`a \`${small.size}\` (${usd(small.alwaysOn).replace('.00', '')}) halves that part, to **${usd(small.total)}** a month`);
  });
});
