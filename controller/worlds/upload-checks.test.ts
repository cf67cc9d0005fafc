import { gzipSync } from 'node:zlib';
import nbt from 'prismarine-nbt';
import { describe, expect, it } from 'vitest';
import type { Controller } from '../controller.js';
import { parseConfig } from '../config/load.js';
import { formatSize, parseSize } from '../config/size.js';
import { checkLevelDat, chooseWorldFolder, entryProblem, levelDatFolder } from './upload-checks.js';
import { refuseBeforeReading } from './upload.js';

describe('upload entry checks', () => {
  it.each([
    ['../x', 'File', /entry \.\.\/x leaves the world folder/],
    ['world/../../x', 'Directory', /leaves the world folder/],
    ['..\\x', 'File', /leaves the world folder/],
    ['/etc/passwd', 'File', /is an absolute path/],
    ['C:/x', 'File', /is an absolute path/],
    ['world/l', 'SymbolicLink', /is a symbolic link/],
    ['world/h', 'Link', /is a hard link/],
    ['world/c', 'CharacterDevice', /device file \(character device\)/],
    ['world/b', 'BlockDevice', /device file \(block device\)/],
    ['world/p', 'FIFO', /FIFO/],
    ['world/s', 'GNUDumpDir', /is a GNUDumpDir entry/],
    ['world/sock', 'Socket', /is a socket; a world holds only files and folders/],
    ['world/a\0b', 'File', /has a NUL byte in its name/],
  ])('refuses %s (%s)', (path, type, message) => {
    expect(entryProblem(path, type)).toMatch(message);
  });
  it.each([['world/level.dat', 'File'], ['./world/region/', 'Directory'], ['level.dat', 'OldFile'], ['a..b/c', 'File']])('accepts %s (%s)', (path, type) => {
    expect(entryProblem(path, type)).toBeUndefined();
  });

  it('finds level.dat at the top or one level down only, and picks the world folder', () => {
    expect(levelDatFolder('./level.dat', 'File')).toBe('');
    expect(levelDatFolder('saves/level.dat', 'File')).toBe('saves');
    expect(levelDatFolder('a/b/level.dat', 'File')).toBeUndefined();
    expect(levelDatFolder('a/level.dat', 'Directory')).toBeUndefined();
    expect(chooseWorldFolder(['a', ''])).toBe('');
    expect(chooseWorldFolder(['a'])).toBe('a');
    expect(chooseWorldFolder(['nether', 'world'])).toBe('world');
    expect(() => chooseWorldFolder(['a', 'b'])).toThrow(/several worlds \(a\/level\.dat, b\/level\.dat\)/);
    expect(() => chooseWorldFolder([])).toThrow(/no level\.dat/);
  });

  it('reads level.dat as gzip NBT with a Data compound', () => {
    const nbtOf = (value: Record<string, nbt.Tags[nbt.TagType]>) => gzipSync(nbt.writeUncompressed({ type: 'compound', name: '', value }));
    expect(() => checkLevelDat(nbtOf({ Data: { type: 'compound', value: {} } }), 'level.dat')).not.toThrow();
    expect(() => checkLevelDat(nbtOf({ Other: { type: 'int', value: 1 } }), 'level.dat')).toThrow(/has no Data compound/);
    expect(() => checkLevelDat(Buffer.from('nope'), 'level.dat')).toThrow(/not gzip-compressed/);
    expect(() => checkLevelDat(gzipSync(Buffer.from('nope')).subarray(0, 12), 'level.dat')).toThrow(/not a whole gzip file/);
    expect(() => checkLevelDat(gzipSync(Buffer.from([0x0a, 0x00, 0x00, 0x08])), 'level.dat')).toThrow(/not NBT data/);
  });
});

describe('worlds.maxUpload', () => {
  it('reads sizes in binary units and writes them back the same way', () => {
    expect(parseSize('2GB')).toBe(2 * 1024 ** 3);
    expect(parseSize('1.5 mb')).toBe(1.5 * 1024 ** 2);
    expect(parseSize('2 gigs')).toBeUndefined();
    expect(formatSize(2 * 1024 ** 3)).toBe('2GB');
    expect(formatSize(1024 ** 2 + 1)).toBe('1.0MB');
    expect(parseConfig({ servers: [{ id: 'world' }] }, '/base').worlds.maxUpload).toBe(2 * 1024 ** 3);
    expect(() => parseConfig({ worlds: { maxUpload: 5 }, servers: [{ id: 'world' }] }, '/base')).toThrow(/worlds\.maxUpload: got the number 5; write a size such as 2GB/);
  });
});

describe('uploads to a DigitalOcean server', () => {
  it('are checked like a local server\'s, not refused for the driver (the next droplet gets them over SSH)', () => {
    const config = parseConfig({ servers: [{ id: 'cloud', driver: 'digitalocean', digitalocean: { region: 'ams3' } }] }, '/base');
    const controller = { config } as unknown as Controller;
    expect(() => refuseBeforeReading(controller, 'cloud', { contentType: 'text/plain', contentLength: 10 })).toThrow(expect.objectContaining({ status: 415 }));
  });
});
