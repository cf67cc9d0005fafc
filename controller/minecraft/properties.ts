/**
 * `server.properties`: Java properties as vanilla Minecraft writes them (`key=value`, `#` comments).
 * The local driver sets ports and RCON here; the test server reads them the way vanilla does.
 */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) out.set(line, '');
    else out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** Rewrites `text` with `updates` applied, keeping every other line (and comment) as it was. */
export function updateProperties(text: string, updates: Record<string, string>): string {
  const pending = new Map(Object.entries(updates));
  const lines = text.split(/\r?\n/).map((raw) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) return raw;
    const key = line.split('=', 1)[0]!.trim();
    if (!pending.has(key)) return raw;
    const value = pending.get(key)!;
    pending.delete(key);
    return `${key}=${value}`;
  });
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const [key, value] of pending) lines.push(`${key}=${value}`);
  return lines.join('\n') + '\n';
}
