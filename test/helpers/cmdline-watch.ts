import { readdirSync, readFileSync } from 'node:fs';

/**
 * Samples the command line of every process on the machine (`/proc/<pid>/cmdline`) every `everyMs`
 * while it runs, and keeps each one that holds one of `secrets`: a secret on a command line is
 * readable by every user of the machine (`ps`). A process that ends between two samples can be missed,
 * so a short interval; the CLI processes that once carried the token lived for hundreds of ms.
 */
export function watchCommandLines(secrets: readonly string[], everyMs = 10): { stop(): string[] } {
  const found = new Set<string>();
  const sample = () => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue; // ended between the listing and the read
      }
      for (const secret of secrets) if (secret && cmdline.includes(secret)) found.add(cmdline.replaceAll(secret, '<secret>').slice(0, 300));
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return [...found];
    },
  };
}
