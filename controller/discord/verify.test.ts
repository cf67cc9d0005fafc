import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DiscordVerifier, SIGNATURE_WINDOW_MS } from './verify.js';

function keys() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The raw key as Discord's developer portal shows it: 32 bytes in hex (the JWK's x).
  const hex = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
  const signed = (timestamp: string, body: string) => sign(null, Buffer.from(timestamp + body), privateKey).toString('hex');
  return { hex, signed };
}

const NOW = 1_800_000_000_000;
const TS = String(NOW / 1000);
const BODY = '{"type":1,"id":"1","application_id":"2","token":"t","version":1}';

describe('DiscordVerifier', () => {
  it('accepts a request signed with the key over timestamp + body', () => {
    const k = keys();
    expect(new DiscordVerifier(k.hex, () => NOW).check(k.signed(TS, BODY), TS, Buffer.from(BODY))).toBe('ok');
  });

  it('accepts the key in upper case hex and the signature in upper case', () => {
    const k = keys();
    expect(new DiscordVerifier(k.hex.toUpperCase(), () => NOW).check(k.signed(TS, BODY).toUpperCase(), TS, Buffer.from(BODY))).toBe('ok');
  });

  it('refuses another key, a changed body and a changed timestamp', () => {
    const k = keys();
    const other = keys();
    const verifier = new DiscordVerifier(k.hex, () => NOW);
    expect(verifier.check(other.signed(TS, BODY), TS, Buffer.from(BODY))).toBe('bad');
    expect(verifier.check(k.signed(TS, BODY), TS, Buffer.from(BODY.replace('"1"', '"3"')))).toBe('bad');
    expect(verifier.check(k.signed(TS, BODY), String(NOW / 1000 + 1), Buffer.from(BODY))).toBe('bad');
  });

  it('never throws on malformed headers: each is bad', () => {
    const k = keys();
    const verifier = new DiscordVerifier(k.hex, () => NOW);
    const good = k.signed(TS, BODY);
    for (const [signature, timestamp] of [
      [undefined, TS],
      ['', TS],
      ['zz' + good.slice(2), TS],
      [good.slice(1), TS],
      [good + '00', TS],
      [good, undefined],
      [good, ''],
      [good, '1e9'],
      [good, ' ' + TS],
      [good, '-1'],
    ] as const) {
      expect(verifier.check(signature, timestamp, Buffer.from(BODY)), `${signature} ${timestamp}`).toBe('bad');
    }
  });

  it('refuses a key that is not 32 bytes of hex when made', () => {
    expect(() => new DiscordVerifier('abc')).toThrow(/64 hex digits/);
  });

  it('calls a signed request stale more than 5 minutes off either way, and fresh within', () => {
    const k = keys();
    const at = (offsetMs: number) => {
      const ts = String(Math.round((NOW + offsetMs) / 1000));
      return new DiscordVerifier(k.hex, () => NOW).check(k.signed(ts, BODY), ts, Buffer.from(BODY));
    };
    expect(at(-SIGNATURE_WINDOW_MS - 1000)).toBe('stale');
    expect(at(SIGNATURE_WINDOW_MS + 1000)).toBe('stale');
    expect(at(-SIGNATURE_WINDOW_MS + 1000)).toBe('ok');
    expect(at(SIGNATURE_WINDOW_MS - 1000)).toBe('ok');
  });

  it('refuses the same signed request a second time while it would still be fresh', () => {
    const k = keys();
    let now = NOW;
    const verifier = new DiscordVerifier(k.hex, () => now);
    const signature = k.signed(TS, BODY);
    expect(verifier.check(signature, TS, Buffer.from(BODY))).toBe('ok');
    expect(verifier.check(signature, TS, Buffer.from(BODY))).toBe('replay');
    expect(verifier.check(signature.toUpperCase(), TS, Buffer.from(BODY))).toBe('replay');
    now += SIGNATURE_WINDOW_MS + 1000;
    // Past the window the copy is stale rather than remembered.
    expect(verifier.check(signature, TS, Buffer.from(BODY))).toBe('stale');
  });

  it('remembers a bounded number of signatures: past windows make room, live ones are never forgotten', () => {
    const k = keys();
    let now = NOW;
    const verifier = new DiscordVerifier(k.hex, () => now, 3);
    const request = (i: number) => {
      const ts = String(Math.round(now / 1000));
      const body = BODY.replace('"1"', `"${i}"`);
      return verifier.check(k.signed(ts, body), ts, Buffer.from(body));
    };
    expect([request(1), request(2), request(3)]).toEqual(['ok', 'ok', 'ok']);
    // Full of signatures inside their window: a new one is refused rather than one of them forgotten.
    expect(request(4)).toBe('replay');
    expect(verifier.remembered).toBe(3);
    now += SIGNATURE_WINDOW_MS + 1000;
    expect(request(5)).toBe('ok');
    expect(verifier.remembered).toBe(1);
  });

  it('does not remember a request with a bad signature', () => {
    const k = keys();
    const verifier = new DiscordVerifier(k.hex, () => NOW);
    verifier.check('00'.repeat(64), TS, Buffer.from(BODY));
    expect(verifier.remembered).toBe(0);
  });
});
