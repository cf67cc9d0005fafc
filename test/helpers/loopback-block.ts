import { randomInt } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../controller/process-alive.js';

/**
 * Where claims live. A fixed path, not os.tmpdir(): two test runs with different TMPDIRs share the
 * same loopback addresses, so they must share the claims too.
 */
export const DEFAULT_CLAIM_DIR = '/tmp/ood-loopback-blocks';

/** A /24 of 127.0.0.0/8 (`127.A.B`) that this process holds until `release()`. */
export interface LoopbackBlock {
  /** `127.A.B`, as the fake DigitalOcean API's `ipBase`: droplets get `127.A.B.N`. */
  ipBase: string;
  release(): void;
}

export interface ClaimOptions {
  /** Where the claim files go (default /tmp/ood-loopback-blocks); tests of this helper use their own. */
  dir?: string;
  /** The blocks to try, in order (default: random 127.A.B with A in 16..250). */
  candidates?: Iterable<string>;
}

export class LoopbackBlockError extends Error {
  override name = 'LoopbackBlockError';
}

/** How many random blocks to try before giving up: with ~60,000 to pick from, a few dozen failing means something is wrong. */
const RANDOM_TRIES = 64;

/**
 * Claims a /24 in 127.0.0.0/8 that no other process uses, so that DigitalOcean tests' loopback
 * droplets (sshd on 127.A.B.N:22, the game on 127.A.B.N:<port>) can never meet another test run's,
 * an OoD running here, or anything else bound on this machine. A block is taken only if no TCP socket
 * (v4 or v6) is bound in it and an exclusive claim file `<dir>/127.A.B` holding our pid could be
 * created; a claim whose pid no longer lives is taken over. 127.0.x and 127.1.x are never picked:
 * older tests, other helpers' fixed bases and OoD itself use them.
 */
export async function claimLoopbackBlock(options: ClaimOptions = {}): Promise<LoopbackBlock> {
  const dir = options.dir ?? DEFAULT_CLAIM_DIR;
  ensureClaimDir(dir);
  const tried: string[] = [];
  for (const ipBase of options.candidates ?? randomBlocks(RANDOM_TRIES)) {
    tried.push(ipBase);
    if (!isClaimableBase(ipBase)) throw new LoopbackBlockError(`${ipBase} is not a block to claim: expected 127.A.B with A in 16..250`);
    if (blockInUse(ipBase)) continue;
    const file = join(dir, ipBase);
    if (!createClaim(file) && !takeOverStale(file)) continue;
    // A socket may have been bound between the look and the claim; look again now that we hold it.
    if (blockInUse(ipBase)) {
      unlinkSync(file);
      continue;
    }
    let released = false;
    return {
      ipBase,
      release: () => {
        if (released) return;
        released = true;
        unlinkSync(file);
      },
    };
  }
  throw new LoopbackBlockError(`Could not claim a loopback block: ${tried.length} tried (${tried.slice(0, 5).join(', ')}${tried.length > 5 ? ', …' : ''}) were claimed in ${dir} by a living process or had a socket bound; remove claims of test runs that are over, or free the addresses`);
}

/** Whether `127.A.B` is in the range this helper hands out. */
export function isClaimableBase(ipBase: string): boolean {
  const m = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(ipBase);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a >= 16 && a <= 250 && b <= 255;
}

function* randomBlocks(count: number): Generator<string> {
  for (let i = 0; i < count; i++) yield `127.${randomInt(16, 251)}.${randomInt(0, 256)}`;
}

function ensureClaimDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  // Shared by every user's test runs, like /tmp itself: world-writable, sticky. Only the owner can chmod.
  if (statSync(dir).uid === process.getuid?.()) chmodSync(dir, 0o1777);
}

/** Creates the claim file exclusively with our pid; false if it exists. */
function createClaim(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LoopbackBlockError(`Could not create the loopback block claim ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The pid a claim names, or undefined if the file is gone or names none (half-written: treated as live). */
function claimPid(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes over a claim whose process is gone. Only a holder of `<file>.takeover` (made exclusively) may
 * remove a claim, and it removes one only after re-reading that its pid is dead, so two processes that
 * both saw the same stale claim can never both end up holding the block, and a live claim is never
 * removed by anyone but its owner. A takeover file left by a process killed mid-takeover only makes
 * that one block unclaimable: there are tens of thousands more.
 */
function takeOverStale(file: string): boolean {
  const first = claimPid(file);
  if (first === undefined || processAlive(first)) return false;
  const lock = `${file}.takeover`;
  if (!createClaim(lock)) return false;
  try {
    const pid = claimPid(file);
    if (pid === undefined || processAlive(pid)) return false;
    unlinkSync(file);
    return createClaim(file);
  } finally {
    unlinkSync(lock);
  }
}

/** Whether any TCP socket on this machine (listening or connected, v4 or v4-mapped v6) has an address in `127.A.B.0/24`. */
export function blockInUse(ipBase: string): boolean {
  const v4 = hexOfBlock(ipBase);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch (err) {
      // No IPv6 on this kernel: nothing can be bound there.
      if (table.endsWith('6') && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new LoopbackBlockError(`Could not read ${table} to see which loopback addresses are taken (these tests need Linux): ${(err as Error).message}`, { cause: err });
    }
    for (const line of text.split('\n').slice(1)) {
      // `sl local_address rem_address …`, each address `HEX:PORT`.
      const [, local, remote] = line.trim().split(/\s+/);
      if (!local || !remote) continue;
      for (const endpoint of [local, remote]) {
        const address = (endpoint.split(':')[0] ?? '').toUpperCase();
        // tcp: 8 hex digits; tcp6: 32, of which an IPv4-mapped address (::ffff:a.b.c.d) keeps it in the last 8.
        const ipv4 = address.length === 8 ? address : address.startsWith('0000000000000000FFFF0000') ? address.slice(24) : undefined;
        if (ipv4 && v4.matches(ipv4)) return true;
      }
    }
  }
  return false;
}

/**
 * The kernel prints each 32-bit word of an address in its own byte order: on little-endian machines
 * 127.A.B.C reads `CCBBAA7F`, on big-endian `7FAABBCC`.
 */
function hexOfBlock(ipBase: string): { matches(hex: string): boolean } {
  const [, a = NaN, b = NaN] = ipBase.split('.').map(Number);
  const hex = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();
  if (endianness() === 'LE') {
    const tail = `${hex(b)}${hex(a)}7F`;
    return { matches: (h) => h.slice(2) === tail };
  }
  const head = `7F${hex(a)}${hex(b)}`;
  return { matches: (h) => h.slice(0, 6) === head };
}

/**
 * A TCP port no process on this machine holds on any address, found by binding 0.0.0.0:0 (a bind on
 * the wildcard conflicts with every address's use of the port). For games and RCON on loopback
 * droplets, where 25565/25575 may be an OoD or another test run's.
 */
export async function freePortEverywhere(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
