/**
 * A check of an uncompressed, big-endian NBT document's shape that builds nothing: it walks every tag
 * (so a truncated or malformed document is still an error) and only notes whether the root compound
 * holds a `Data` compound, as a Java Edition level.dat does. A parser that builds objects (prismarine-nbt)
 * turns a few KB of gzip — a list of millions of empty compounds — into hundreds of MB of heap; this
 * costs no memory beyond its stack, and nesting is capped as the game caps it.
 */

/** The game's own nesting limit for NBT (NbtAccounter); deeper is refused, never recursed into. */
const MAX_DEPTH = 512;

/** Fixed payload sizes by tag id (byte, short, int, long, float, double). */
const FIXED: Record<number, number> = { 1: 1, 2: 2, 3: 4, 4: 8, 5: 4, 6: 8 };
/** Element sizes of the array tags (byte, int, long arrays). */
const ARRAY: Record<number, number> = { 7: 1, 11: 4, 12: 8 };

export class NbtShapeError extends Error {
  override readonly name = 'NbtShapeError';
}

/** True when `raw` is one well-formed NBT compound whose children include a compound named `Data`; throws NbtShapeError when it is not NBT. */
export function nbtHasDataCompound(raw: Buffer): boolean {
  let at = 0;
  const need = (n: number) => {
    if (n < 0 || at + n > raw.length) throw new NbtShapeError(`NBT ends early at byte ${at} (needs ${n} more)`);
  };
  const u8 = () => (need(1), raw[at++]!);
  const u16 = () => (need(2), (at += 2), raw.readUInt16BE(at - 2));
  const i32 = () => (need(4), (at += 4), raw.readInt32BE(at - 4));
  const name = (): string => {
    const len = u16();
    need(len);
    at += len;
    // Only short names are compared; no string of the document is kept.
    return len === 4 ? raw.toString('utf8', at - 4, at) : '';
  };
  const length = () => {
    const n = i32();
    if (n < 0) throw new NbtShapeError(`NBT has a negative length ${n} at byte ${at - 4}`);
    return n;
  };
  const payload = (type: number, depth: number): void => {
    if (depth > MAX_DEPTH) throw new NbtShapeError(`NBT nests deeper than ${MAX_DEPTH}`);
    const fixed = FIXED[type];
    if (fixed !== undefined) return void (need(fixed), (at += fixed));
    const element = ARRAY[type];
    if (element !== undefined) {
      const n = length();
      need(n * element);
      at += n * element;
      return;
    }
    if (type === 8) return void name();
    if (type === 9) {
      const inner = u8();
      const n = length();
      if (inner === 0 && n > 0) throw new NbtShapeError(`NBT has a list of ${n} End tags at byte ${at}`);
      const innerFixed = FIXED[inner];
      if (innerFixed !== undefined) {
        need(n * innerFixed);
        at += n * innerFixed;
        return;
      }
      for (let i = 0; i < n; i++) payload(inner, depth + 1);
      return;
    }
    if (type === 10) {
      compound(depth);
      return;
    }
    throw new NbtShapeError(`NBT has an unknown tag type ${type} at byte ${at}`);
  };
  /** Walks a compound's children; true when one is a compound named Data. */
  const compound = (depth: number): boolean => {
    let data = false;
    for (;;) {
      const type = u8();
      if (type === 0) return data;
      const key = name();
      if (type === 10 && key === 'Data') data = true;
      payload(type, depth + 1);
    }
  };
  if (u8() !== 10) throw new NbtShapeError('NBT does not start with a compound tag');
  name();
  return compound(0);
}
