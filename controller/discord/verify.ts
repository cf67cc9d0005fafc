import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** What a check of a request's signature found; only 'ok' may go on to be read. */
export type Verdict = 'ok' | 'bad' | 'stale' | 'replay';

/** How far a request's timestamp may be from our clock, either way. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;

/** Signatures remembered at most (each costs ~200 bytes): a flood of valid ones beyond it is refused, never forgotten early. */
const SEEN_MAX = 100_000;

const HEX = /^[0-9a-f]+$/i;

/**
 * Checks Discord's Ed25519 signature of an interaction: `X-Signature-Ed25519` over the
 * `X-Signature-Timestamp` text followed by the raw body, with the application's public key
 * (https://discord.com/developers/docs/interactions/receiving-and-responding#security-and-authorization).
 * Discord sends bad signatures on purpose and removes an endpoint that accepts one.
 *
 * Beyond Discord's rules, OoD refuses a timestamp more than 5 minutes from its clock and a signature it
 * has already accepted within that window, so a captured request cannot be played again later.
 */
export class DiscordVerifier {
  private readonly key: KeyObject;
  /** Accepted signatures, and until when a copy of each would still be inside the window. */
  private readonly seen = new Map<string, number>();

  constructor(
    publicKeyHex: string,
    private readonly clock: () => number = Date.now,
    private readonly remember = SEEN_MAX,
  ) {
    if (!/^[0-9a-f]{64}$/i.test(publicKeyHex)) throw new Error('a Discord public key is 64 hex digits (32 bytes)');
    // The raw 32-byte key as a JWK: node:crypto takes no bare Ed25519 key, and the JWK needs no DER prefix.
    this.key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKeyHex, 'hex').toString('base64url') }, format: 'jwk' });
  }

  check(signatureHex: string | undefined, timestamp: string | undefined, rawBody: Buffer): Verdict {
    // Ed25519 signatures are 64 bytes; anything else (odd length, non-hex) is bad, never an exception.
    if (!signatureHex || signatureHex.length !== 128 || !HEX.test(signatureHex)) return 'bad';
    if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return 'bad';
    const signature = Buffer.from(signatureHex, 'hex');
    if (!verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]), this.key, signature)) return 'bad';
    // Only a request Discord signed is judged by its time, so nobody else can fill the memory of seen ones.
    const now = this.clock();
    if (Math.abs(now - Number(timestamp) * 1000) > SIGNATURE_WINDOW_MS) return 'stale';
    // One signature, however written (hex case): Ed25519 signatures are deterministic per message.
    const id = signatureHex.toLowerCase();
    const until = this.seen.get(id);
    if (until !== undefined && until > now) return 'replay';
    // Full of signatures still inside their window (a flood of 333 a second): refused like a copy, since
    // forgetting one early would let its copy through.
    if (!this.roomFor(now)) return 'replay';
    // A copy is refused as long as its timestamp would still pass: up to the window past that timestamp.
    this.seen.set(id, Number(timestamp) * 1000 + SIGNATURE_WINDOW_MS);
    return 'ok';
  }

  /** How many signatures are remembered (tests). */
  get remembered(): number {
    return this.seen.size;
  }

  /** Forgets signatures whose window has passed; with the map full of live ones, there is no room. */
  private roomFor(now: number): boolean {
    if (this.seen.size < this.remember) return true;
    for (const [id, until] of this.seen) if (until <= now) this.seen.delete(id);
    return this.seen.size < this.remember;
  }
}
