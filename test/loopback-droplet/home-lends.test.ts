import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledGamePaths, homeLends } from './home-lends.js';

describe('what a droplet borrows from the host home it covers', () => {
  // A stand-in for /root: a checkout, node from nvm, and something else root keeps there.
  const home = mkdtempSync(join(tmpdir(), 'ood-home-lends-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, 'ood', 'node_modules', 'tsx', 'dist'), { recursive: true });
  writeFileSync(join(home, 'ood', 'node_modules', 'tsx', 'dist', 'loader.mjs'), '');
  mkdirSync(join(home, '.nvm', 'bin'), { recursive: true });
  writeFileSync(join(home, '.nvm', 'bin', 'node'), '');

  it('lends the outermost paths under the home, at the same place, and nothing from elsewhere', () => {
    const lends = homeLends([join(home, '.nvm', 'bin', 'node'), join(home, 'ood', 'node_modules', 'tsx', 'dist', 'loader.mjs'), join(home, 'ood'), join(home, 'ood', 'node_modules'), '/usr/bin/node', `${home}-other/x`], home);
    expect(lends).toEqual([
      { source: join(home, '.nvm', 'bin', 'node'), inHome: '.nvm/bin/node', directory: false },
      { source: join(home, 'ood'), inHome: 'ood', directory: true },
    ]);
  });

  it('refuses to lend the home itself, saying where to put the checkout', () => {
    expect(() => homeLends([home, join(home, 'ood')], home)).toThrow(/needs .* itself .*move the checkout into a directory below/);
  });

  it('names this checkout among what the game runs from', () => {
    const paths = bundledGamePaths();
    expect(paths).toContain(process.execPath);
    expect(paths.some((path) => path.endsWith('/node_modules'))).toBe(true);
  });
});
