import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The commands of the README's first shell block that contains `marker`: one string per command, a
 * line ending in `\` joined with the next, comments and blank lines left out. Tests run these very
 * commands, so README cannot drift from what works.
 */
export function readmeCommands(marker: string): string[] {
  const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes(marker));
  if (!block) throw new Error(`README.md has no sh block with ${marker}`);
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}
