import type { PassphraseSecrets } from '../secrets.js';
import type { PropertyMap, PropertyValue } from '../types.js';

/** Pulumi's special-value signature key and the secret signature (sdk/go/common/resource/sig). */
export const SIG_KEY = '4dabf18193072939515e22adb298388d';
export const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

type Obj = { [key: string]: PropertyValue };

function isObj(v: PropertyValue | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isSecret(v: PropertyValue | undefined): v is Obj {
  return isObj(v) && v[SIG_KEY] === SECRET_SIG;
}

export function secret(value: PropertyValue): PropertyValue {
  return { [SIG_KEY]: SECRET_SIG, value };
}

export function containsSecret(v: PropertyValue | undefined): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (isObj(v)) return Object.values(v).some(containsSecret);
  return false;
}

/** The plain value a provider works with: secrets unwrapped at any depth. */
export function plain(v: PropertyValue): PropertyValue {
  if (isSecret(v)) return plain(v.value ?? null);
  if (Array.isArray(v)) return v.map(plain);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export function plainMap(m: PropertyMap): PropertyMap {
  return plain(m) as PropertyMap;
}

/** What people may see: every secret replaced by "[secret]", as the real CLI shows it. */
export function masked(v: PropertyValue): PropertyValue {
  if (isSecret(v)) return '[secret]';
  if (Array.isArray(v)) return v.map(masked);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)]));
  return v;
}

/** Secrets in state are stored as `{sig, ciphertext}` like the real checkpoint, never in plain text. */
export function encryptSecrets(v: PropertyValue, secrets: PassphraseSecrets): PropertyValue {
  if (isSecret(v)) return { [SIG_KEY]: SECRET_SIG, ciphertext: secrets.encrypt(JSON.stringify(plain(v.value ?? null))) };
  if (Array.isArray(v)) return v.map((x) => encryptSecrets(x, secrets));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encryptSecrets(x, secrets)]));
  return v;
}

export function decryptSecrets(v: PropertyValue, secrets: PassphraseSecrets): PropertyValue {
  if (isSecret(v) && typeof v.ciphertext === 'string') return secret(JSON.parse(secrets.decrypt(v.ciphertext)) as PropertyValue);
  if (Array.isArray(v)) return v.map((x) => decryptSecrets(x, secrets));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decryptSecrets(x, secrets)]));
  return v;
}

/** Order-insensitive for object keys, order-sensitive for arrays; secretness is ignored. */
export function deepEqual(a: PropertyValue | undefined, b: PropertyValue | undefined): boolean {
  return JSON.stringify(canonical(a === undefined ? null : plain(a))) === JSON.stringify(canonical(b === undefined ? null : plain(b)));
}

function canonical(v: PropertyValue): PropertyValue {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k] as PropertyValue)]));
  return v;
}

/** Drops undefined entries so a map can become a protobuf Struct. */
export function compact(m: Record<string, PropertyValue | undefined>): PropertyMap {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as PropertyMap;
}
