/** Property values as the provider server hands them over (`Struct.toJavaScript()`), and the few helpers the resources need. */

export type PropertyValue = null | boolean | number | string | PropertyValue[] | { [key: string]: PropertyValue };
export type PropertyMap = Record<string, PropertyValue>;

/** Pulumi's special-value signature key and the secret signature (sdk/go/common/resource/sig). */
export const SIG_KEY = '4dabf18193072939515e22adb298388d';
export const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';
/** What a value not known yet (a preview) looks like on the wire. */
export const UNKNOWN = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

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

/** The plain value a resource works with: secrets unwrapped at any depth. */
export function plain(v: PropertyValue): PropertyValue {
  if (isSecret(v)) return plain(v.value ?? null);
  if (Array.isArray(v)) return v.map(plain);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export function plainMap(m: PropertyMap | undefined): PropertyMap {
  return plain(m ?? {}) as PropertyMap;
}

export function containsSecret(v: PropertyValue | undefined): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (isObj(v)) return Object.values(v).some(containsSecret);
  return false;
}

/** Order-insensitive for object keys, order-sensitive for arrays; secretness is ignored. */
export function deepEqual(a: PropertyValue | undefined, b: PropertyValue | undefined): boolean {
  return JSON.stringify(canonical(a === undefined ? null : plain(a))) === JSON.stringify(canonical(b === undefined ? null : plain(b)));
}

/** For Terraform's TypeSet: equal whatever the order. */
export function sameSet(a: PropertyValue | undefined, b: PropertyValue | undefined, key: (v: PropertyValue) => string = (v) => JSON.stringify(canonical(v))): boolean {
  const set = (v: PropertyValue | undefined): string[] => (Array.isArray(v) ? [...new Set(v.map(key))].sort() : []);
  return JSON.stringify(set(a)) === JSON.stringify(set(b));
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
