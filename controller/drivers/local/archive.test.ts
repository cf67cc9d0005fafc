import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveError } from '../../errors.js';
import { extractArchive, readArchive, writeArchive } from './archive.js';

describe('archives', () => {
  let dir: string;
  let archive: string;
  const payload = randomBytes(3 << 20).toString('base64');
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ood-archive-'));
    mkdirSync(join(dir, 'src', 'world'), { recursive: true });
    writeFileSync(join(dir, 'src', 'world', 'big.dat'), payload);
    writeFileSync(join(dir, 'src', 'server.properties'), 'server-port=25565\n');
    writeFileSync(join(dir, 'src', '.ood-host.json'), '{}');
    archive = join(dir, 'out', 'ood-1.tar.gz');
    await writeArchive(join(dir, 'src'), archive);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a world, leaving out OoD control files and temp files', async () => {
    await extractArchive(archive, join(dir, 'x'));
    expect(readFileSync(join(dir, 'x', 'world', 'big.dat'), 'utf8')).toBe(payload);
    expect(readdirSync(join(dir, 'x')).sort()).toEqual(['server.properties', 'world']);
    expect(readdirSync(join(dir, 'out'))).toEqual(['ood-1.tar.gz']);
  });

  it('is a plain .tar.gz that GNU tar reads, for restoring by hand', () => {
    const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['server.properties', 'world/', 'world/big.dat']);
  });

  const damage: [string, (b: Buffer) => Buffer][] = [
    ['truncated', (b) => b.subarray(0, b.length >> 1)],
    ['a flipped byte', (b) => { const c = Buffer.from(b); c[c.length >> 1]! ^= 0xff; return c; }],
    ['not an archive', () => Buffer.from('not an archive at all')],
  ];
  it.each(damage)('detects %s on read-back and on restore', async (_name, spoil) => {
    writeFileSync(archive, spoil(readFileSync(archive)));
    await expect(readArchive(archive)).rejects.toThrow(ArchiveError);
    await expect(extractArchive(archive, join(dir, 'x'))).rejects.toThrow(/is damaged/);
  });
});
