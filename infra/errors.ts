/**
 * Errors of the Pulumi boundary. `retryable` says whether the reconcile loop may run the same step
 * again after a backoff; the shape matches the controller's errors (infra/ does not import them).
 */
export type PulumiOperation = 'open' | 'config' | 'up' | 'destroy' | 'outputs' | 'history' | 'refresh';

/** A Pulumi step on a stack failed. The message names the stack and operation and carries the CLI's error text, secrets scrubbed. */
export class PulumiStepError extends Error {
  constructor(
    message: string,
    readonly stackName: string,
    readonly operation: PulumiOperation,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PulumiStepError';
  }
}

/** No usable `pulumi` CLI: a person has to install it or point `pulumi.command` at it. */
export class PulumiMissingError extends Error {
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PulumiMissingError';
  }
}

/** Automation's ConcurrentUpdateError, and the file backend's text for a stack locked by another update. */
const LOCKED = /ConcurrentUpdateError|the stack is currently locked by|Another update is currently in progress/;

export function isLocked(err: unknown): boolean {
  return LOCKED.test(`${(err as Error).name} ${(err as Error).message}`);
}

/** Replaces every known secret (token, passphrase) in a text bound for a message or a log. */
export function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, s) => t.split(s).join('[secret]'), text);
}

/** Maps Automation's CommandError to what the reconcile loop needs: which stack, which step, the CLI's reason, retry or not. */
export function stepError(stack: string, op: PulumiOperation, err: unknown, secrets: string[]): PulumiStepError | PulumiMissingError {
  if (err instanceof PulumiStepError || err instanceof PulumiMissingError) return err;
  const e = err as Error & { commandResult?: { stderr?: string } };
  const text = scrub((e.commandResult?.stderr || e.message || String(err)).trim(), secrets);
  const locked = isLocked(err) || LOCKED.test(text);
  const what = locked ? 'is locked by another update' : 'failed';
  const cause = Object.assign(new Error(scrub(e.message ?? String(err), secrets)), { name: e.name ?? 'Error' });
  return new PulumiStepError(`Pulumi ${op} of stack ${stack} ${what}: ${errorLines(text)}`, stack, op, locked || retryable(text), { cause });
}

/**
 * The CLI's `error:` lines with their continuations, without stack frames or the progress display
 * (Automation mixes stderr and stdout into one text when the command fails).
 */
function errorLines(text: string): string {
  const lines = text.split('\n');
  const picked: string[] = [];
  lines.forEach((line, i) => {
    if (!/^\s*error: /.test(line)) return;
    picked.push(line.trim());
    for (const next of lines.slice(i + 1, i + 6)) {
      if (!next.trim() || /^\s*(error: |at |Updating \(|Destroying \(|Resources:|Outputs:|Duration:|[+~-] )/.test(next)) break;
      picked.push(next.trim());
    }
  });
  const unique = [...new Set(picked)];
  return (unique.length > 0 ? unique.join('\n') : lines.filter((l) => l.trim()).slice(-6).join('\n')).slice(0, 2000);
}

/**
 * Whether running the same step again may help. A DigitalOcean answer decides when there is one
 * (429 and 5xx yes, other 4xx no); otherwise a wrong or missing passphrase, an unsupported resource
 * or a program that throws need a person, and anything else (network, crashes) is worth a retry.
 */
function retryable(text: string): boolean {
  const statuses = [...text.matchAll(/: (\d{3}) \(/g)].map((m) => Number(m[1]));
  if (statuses.length > 0) return statuses.every((s) => s === 429 || s >= 500);
  if (/fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|socket hang up/.test(text)) return true;
  // A throwing program: `error: Unhandled exception: …` from the real CLI for an inline program.
  return !/passphrase|is not supported by|failed with an unhandled exception|Unhandled exception:/i.test(text);
}
