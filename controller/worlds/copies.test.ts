import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractArchive } from '../drivers/local/archive.js';
import { chooseArchive } from './chosen-archive.js';
import { copiesDir, listCopies, pruneCopies, writeCopy } from './copies.js';

/** What the droplet's `tar czf - -C /srv/minecraft world server.properties` sends: GNU tar itself. */
const gnuTar = (cwd: string, ...entries: string[]): Readable => spawn('tar', ['czf', '-', '-C', cwd, ...entries], { stdio: ['ignore', 'pipe', 'inherit'] }).stdout;

describe('the copy store', () => {
  let dir: string;
  let dataDir: string;
  let game: string;
  const payload = randomBytes(1 << 20).toString('base64');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-copies-'));
    dataDir = join(dir, 'data');
    game = join(dir, 'game');
    mkdirSync(join(game, 'world', 'region'), { recursive: true });
    writeFileSync(join(game, 'world', 'level.dat'), 'level');
    writeFileSync(join(game, 'world', 'region', 'r.0.0.mca'), payload);
    writeFileSync(join(game, 'server.properties'), 'level-name=world\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores a streamed tar as ood-<ts>.tar.gz that unpacks to the world folder and server.properties', async () => {
    const copy = await writeCopy(dataDir, 'world', gnuTar(game, 'world', 'server.properties'), 1_700_000_000_000);
    expect(copy.name).toBe('ood-1700000000.tar.gz');
    expect(copy.entries).toBe(5);
    expect(readdirSync(copiesDir(dataDir, 'world'))).toEqual(['ood-1700000000.tar.gz']);
    await extractArchive(join(copiesDir(dataDir, 'world'), copy.name), join(dir, 'x'));
    expect(readFileSync(join(dir, 'x', 'world', 'region', 'r.0.0.mca'), 'utf8')).toBe(payload);
    expect(readdirSync(join(dir, 'x')).sort()).toEqual(['server.properties', 'world']);
    // Within one second, the next copy still gets a newer name.
    const next = await writeCopy(dataDir, 'world', gnuTar(game, 'world'), 1_700_000_000_500);
    expect(next.name).toBe('ood-1700000001.tar.gz');
    expect((await listCopies(dataDir, 'world')).map((c) => c.name)).toEqual(['ood-1700000001.tar.gz', 'ood-1700000000.tar.gz']);
  });

  it.each([
    ['cut off half way', (b: Buffer) => b.subarray(0, b.length >> 1)],
    ['a flipped byte', (b: Buffer) => { const c = Buffer.from(b); c[c.length >> 1]! ^= 0xff; return c; }],
    ['not gzip at all', () => Buffer.from('tar: world: Cannot stat: No such file or directory')],
  ])('keeps nothing of a stream %s (read back before it is named)', async (_what, spoil) => {
    const chunks: Buffer[] = [];
    for await (const chunk of gnuTar(game, 'world')) chunks.push(chunk as Buffer);
    await expect(writeCopy(dataDir, 'world', Readable.from([spoil(Buffer.concat(chunks))]), Date.now())).rejects.toThrow();
    expect(readdirSync(copiesDir(dataDir, 'world'))).toEqual([]);
    expect(await listCopies(dataDir, 'world')).toEqual([]);
  });

  it('keeps nothing when the stream itself fails, and the next write clears a partial a crash left', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('the SSH channel closed')); } });
    await expect(writeCopy(dataDir, 'world', failing, Date.now())).rejects.toThrow(/SSH channel closed/);
    writeFileSync(join(copiesDir(dataDir, 'world'), '.123-4.partial'), 'half a copy');
    await writeCopy(dataDir, 'world', gnuTar(game, 'world'), 1_700_000_000_000);
    expect(readdirSync(copiesDir(dataDir, 'world'))).toEqual(['ood-1700000000.tar.gz']);
  });

  it('prunes to keep, never the copy chosen-world.json names nor any newer one', async () => {
    for (let i = 0; i < 5; i++) await writeCopy(dataDir, 'world', gnuTar(game, 'world'), (1_700_000_000 + i) * 1000);
    expect(await pruneCopies(dataDir, 'world', 3)).toEqual(['ood-1700000001.tar.gz', 'ood-1700000000.tar.gz']);
    expect((await listCopies(dataDir, 'world')).map((c) => c.ts)).toEqual([1_700_000_004, 1_700_000_003, 1_700_000_002]);

    // The oldest left is chosen: with keep 1 it and both newer ones stay.
    await chooseArchive(join(dataDir, 'servers', 'world'), { archive: 'ood-1700000002.tar.gz', ts: 1_700_000_002, chosenAt: new Date().toISOString(), by: 'admin' });
    expect(await pruneCopies(dataDir, 'world', 1)).toEqual([]);
    expect((await listCopies(dataDir, 'world')).map((c) => c.ts)).toEqual([1_700_000_004, 1_700_000_003, 1_700_000_002]);
    // Chosen the newest: the older two go.
    await chooseArchive(join(dataDir, 'servers', 'world'), { archive: 'ood-1700000004.tar.gz', ts: 1_700_000_004, chosenAt: new Date().toISOString(), by: 'admin' });
    expect(await pruneCopies(dataDir, 'world', 1)).toEqual(['ood-1700000003.tar.gz', 'ood-1700000002.tar.gz']);
  });
});
