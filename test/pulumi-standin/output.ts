/**
 * stdout/stderr that survive the reader going away: when the process that ran us is killed, our
 * pipes break (EPIPE) but an update in flight must still finish, record itself and unlock.
 */
let broken = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', () => {
    broken = true;
  });
}

export function out(text: string): void {
  if (!broken) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  if (!broken) process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Resolves once stdout has flushed, so `exit` does not cut JSON output short. */
export async function flush(): Promise<void> {
  if (broken) return;
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
}
