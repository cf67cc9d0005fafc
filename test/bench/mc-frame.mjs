/**
 * Minecraft framing for the plain-node bench scripts (status-load.mjs, status-floor.mjs), which run
 * without a TypeScript loader and so cannot import controller/minecraft/varint.ts.
 */

/** A Minecraft VarInt (int32, 7 bits a byte, low group first). */
export function varInt(value) {
  const bytes = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0);
  return Buffer.from(bytes);
}

/** A framed packet: VarInt length of (id + data), VarInt id, data. */
export function packet(id, ...fields) {
  const body = Buffer.concat([varInt(id), ...fields]);
  return Buffer.concat([varInt(body.length), body]);
}
