import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';

const keep = (server: Record<string, unknown>) => {
  const s = parseConfig({ servers: [{ id: 'world', ...server }] }, '/base').servers[0]!;
  return { keepSnapshots: s.digitalocean.keepSnapshots, backups: s.backups.enabled };
};

/** With copies of the world on this machine, one snapshot is enough: the copies are the fallback a second snapshot was (issue 19 item 4). */
describe('digitalocean.keepSnapshots', () => {
  it('defaults to 1 while backups are enabled, which they are by default on DigitalOcean', () => {
    expect(keep({ driver: 'digitalocean' })).toEqual({ keepSnapshots: 1, backups: true });
    expect(keep({ driver: 'digitalocean', backups: { enabled: true } })).toEqual({ keepSnapshots: 1, backups: true });
  });

  it('defaults to 2 without backups', () => {
    expect(keep({ driver: 'digitalocean', backups: { enabled: false } })).toEqual({ keepSnapshots: 2, backups: false });
    expect(keep({ driver: 'local' })).toEqual({ keepSnapshots: 2, backups: false });
  });

  it('keeps an explicit value as given, with or without backups', () => {
    expect(keep({ driver: 'digitalocean', digitalocean: { keepSnapshots: 3 } })).toEqual({ keepSnapshots: 3, backups: true });
    expect(keep({ driver: 'digitalocean', digitalocean: { keepSnapshots: 1 }, backups: { enabled: false } })).toEqual({ keepSnapshots: 1, backups: false });
    expect(keep({ driver: 'digitalocean', digitalocean: { keepSnapshots: 2 } })).toEqual({ keepSnapshots: 2, backups: true });
  });

  it('still refuses a value below 1', () => {
    expect(() => keep({ driver: 'digitalocean', digitalocean: { keepSnapshots: 0 } })).toThrow(/servers\[0\]\.digitalocean\.keepSnapshots/);
  });
});
