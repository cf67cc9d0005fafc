import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordingClient } from '../fake-do/testing.js';
import { makeDoWorld, type DoWorld } from './do-world.js';
import { blockInUse, claimLoopbackBlock, DEFAULT_CLAIM_DIR, isClaimableBase, LoopbackBlockError, type LoopbackBlock } from './loopback-block.js';
import { waitUntil } from './wait.js';

const HELPER = fileURLToPath(new URL('./loopback-block.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Distinct random blocks in the claimable range, so this test meets no real claim or socket by design. */
function someBlocks(n: number): string[] {
  const blocks = new Set<string>();
  while (blocks.size < n) blocks.add(`127.${randomInt(16, 251)}.${randomInt(0, 256)}`);
  return [...blocks];
}

function listen(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => resolve(srv));
  });
}

/** A process that claims one of `candidates` in `dir`, says which (or `none`), and holds it until its stdin closes. */
function claimer(dir: string, candidates: string[]): { child: ChildProcess; said: Promise<string> } {
  const code = `
    const { claimLoopbackBlock } = await import(${JSON.stringify(HELPER)});
    let block;
    try { block = await claimLoopbackBlock({ dir: ${JSON.stringify(dir)}, candidates: ${JSON.stringify(candidates)} }); }
    catch (err) { if (err.name !== 'LoopbackBlockError') throw err; }
    process.stdout.write((block ? block.ipBase : 'none') + '\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { block?.release(); process.exit(0); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const said = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`claimer exited ${code} before answering: ${err}`)));
  });
  return { child, said };
}

describe('claimLoopbackBlock', () => {
  let dir: string;
  const held: LoopbackBlock[] = [];
  const servers: Server[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ood-blocks-'));
  });
  afterEach(async () => {
    for (const b of held.splice(0)) b.release();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives two claims at once different blocks, never 127.0.x or 127.1.x, each held by a file with our pid until released', async () => {
    const a = await claimLoopbackBlock({ dir });
    const b = await claimLoopbackBlock({ dir });
    held.push(a, b);
    expect(a.ipBase).not.toBe(b.ipBase);
    for (const block of [a, b]) {
      expect(isClaimableBase(block.ipBase), block.ipBase).toBe(true);
      expect(readFileSync(join(dir, block.ipBase), 'utf8').trim()).toBe(String(process.pid));
    }
    // With only one candidate, a block this process already holds is not handed out again.
    await expect(claimLoopbackBlock({ dir, candidates: [a.ipBase] })).rejects.toThrow(LoopbackBlockError);
    a.release();
    expect(existsSync(join(dir, a.ipBase))).toBe(false);
    expect(existsSync(join(dir, b.ipBase))).toBe(true);
  });

  it('never hands one block to two processes claiming at the same moment', async () => {
    const candidates = someBlocks(2);
    const claimers = Array.from({ length: 4 }, () => claimer(dir, candidates));
    try {
      const answers = await Promise.all(claimers.map((c) => c.said));
      const got = answers.filter((a) => a !== 'none');
      expect(got.sort()).toEqual([...candidates].sort());
    } finally {
      for (const c of claimers) c.child.stdin!.end();
    }
  });

  it('takes over a claim whose process is gone, but never one whose process lives', async () => {
    const [stale, live] = someBlocks(2) as [string, string];
    const gone = spawnSync('true').pid;
    writeFileSync(join(dir, stale), `${gone}\n`);
    const taken = await claimLoopbackBlock({ dir, candidates: [stale] });
    held.push(taken);
    expect(taken.ipBase).toBe(stale);
    expect(readFileSync(join(dir, stale), 'utf8').trim()).toBe(String(process.pid));
    expect(existsSync(join(dir, `${stale}.takeover`))).toBe(false);

    writeFileSync(join(dir, live), `${process.ppid}\n`);
    await expect(claimLoopbackBlock({ dir, candidates: [live] })).rejects.toThrow(/Could not claim a loopback block: 1 tried/);
    expect(readFileSync(join(dir, live), 'utf8').trim()).toBe(String(process.ppid));
  });

  it('skips a block where any socket is bound, IPv4 or IPv4-mapped IPv6', async () => {
    const [v4, v6, free] = someBlocks(3) as [string, string, string];
    expect(blockInUse(v4)).toBe(false);
    servers.push(await listen(`${v4}.9`), await listen(`::ffff:${v6}.200`));
    expect(blockInUse(v4)).toBe(true);
    expect(blockInUse(v6)).toBe(true);
    const block = await claimLoopbackBlock({ dir, candidates: [v4, v6, free] });
    held.push(block);
    expect(block.ipBase).toBe(free);
    expect(existsSync(join(dir, v4))).toBe(false);
  });
});

describe('makeDoWorld', () => {
  let world: DoWorld | undefined;
  afterEach(async () => {
    await world?.cleanup();
    world = undefined;
  });

  it('runs its droplets in a block it claimed and its game on free ports, never 25565/25575', async () => {
    world = await makeDoWorld();
    const config = parse(readFileSync(world.configPath, 'utf8')) as { servers: { game?: { port?: number; rconPort?: number } }[] };
    const game = config.servers[0]!.game ?? {};
    expect(game.port ?? 25_565).not.toBe(25_565);
    expect(game.rconPort ?? 25_575).not.toBe(25_575);
    expect(world.gamePort).toBe(game.port);

    const claim = join(DEFAULT_CLAIM_DIR, String(world.ipBase));
    expect(isClaimableBase(String(world.ipBase)), `world.ipBase ${world.ipBase}`).toBe(true);
    expect(readFileSync(claim, 'utf8').trim()).toBe(String(process.pid));
    const client = recordingClient(world.fake.url, world.fake.token);
    const image = [...world.fake.state.snapshots.values()][0]!.id;
    const created = await client.call('POST', '/v2/droplets', { name: 'ood-world', region: 'fra1', size: 's-1vcpu-2gb', image });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.droplet.id as number;
    await waitUntil('the droplet to boot', async () => (await client.call('GET', `/v2/droplets/${id}`)).body.droplet.status === 'active', 60_000, 100);
    expect(world.fake.state.droplets.get(id)!.ipv4).toMatch(new RegExp(`^${world.ipBase.replaceAll('.', '\\.')}\\.\\d+$`));

    await world.cleanup();
    world = undefined;
    expect(existsSync(claim)).toBe(false);
  });
});
