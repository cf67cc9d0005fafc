import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { usd } from '../controller/cost/billing.js';
import { headline } from './bench/cost.js';
import { REPO_ROOT } from './helpers/readme.js';

/** README's cost headline is what OoD's own meter says for the default config, not a figure kept by hand. */
describe("README's cost headline", () => {
  it('quotes the default size, its always-on price and the meter’s month for keepSnapshots 2 and 1', () => {
    const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
    const paragraph = readme.split('\n\n').find((p) => p.startsWith('The headline:'));
    expect(paragraph, 'README has a paragraph starting "The headline:"').toBeDefined();
    const text = paragraph!.replace(/\s+/g, ' ');
    const kept = headline(2);
    const one = headline(1);
    expect(text).toContain(`\`${kept.size}\` (${usd(kept.alwaysOn)} a month always on)`);
    expect(text).toContain(`**${usd(kept.total)}** a month`);
    expect(text).toContain(`droplet ${usd(kept.droplets)}, snapshots ${usd(kept.snapshots)}`);
    expect(text).toContain(`**${usd(one.total)}** with \`digitalocean.keepSnapshots: 1\``);
  });
});
