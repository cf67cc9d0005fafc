import type { z } from 'zod';

/** `servers[0].idle.emptyAfter` from zod's `['servers', 0, 'idle', 'emptyAfter']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

/** One line per issue, `<key path>: <what is wrong>`; an unknown key names the known one it most resembles. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): string {
  return issues
    .map((issue) => {
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        const known = objectKeysAt(schema, issue.path);
        message = issue.keys
          .map((key) => {
            const near = closest(key, known);
            return `unknown key "${key}"${near ? `; did you mean "${near}"?` : ''}`;
          })
          .join(', ');
      }
      return `${formatPath(issue.path)}: ${message}`;
    })
    .join('\n');
}

type Def = { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; innerType?: z.ZodType; in?: z.ZodType; options?: z.ZodType[] };
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The keys the object schema at `path` knows (empty when the path leads to no object). */
function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const def = defOf(schema);
  if (def.innerType) return objectKeysAt(def.innerType, path);
  if (def.type === 'pipe' && def.in) return objectKeysAt(def.in, path);
  if (def.type === 'union' && def.options) {
    for (const option of def.options) {
      const keys = objectKeysAt(option, path);
      if (keys.length > 0) return keys;
    }
    return [];
  }
  const [head, ...rest] = path;
  if (def.type === 'object' && def.shape) {
    if (head === undefined) return Object.keys(def.shape);
    const next = def.shape[String(head)];
    return next ? objectKeysAt(next, rest) : [];
  }
  if (def.type === 'array' && def.element && typeof head === 'number') return objectKeysAt(def.element, rest);
  return [];
}

/**
 * The candidate nearest to `word` by edit distance (case ignored), if it is near enough to be the one
 * meant: at most a third of the word's letters wrong. A small Levenshtein of our own; the one in
 * node_modules (fast-levenshtein) is only there for eslint.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

/** Levenshtein with a swap of two neighbours as one edit (`idel` → `idle`), the commonest slip. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
