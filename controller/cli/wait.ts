import { formatDuration } from '../config/duration.js';
import type { ServerJson } from '../api/server-json.js';
import type { ApiClient } from './api-client.js';
import { ApiError } from './api-client.js';
import { typicalDuration } from './eta.js';

/**
 * Follows a server until it reaches `target`, showing phase, elapsed time and an estimate:
 * one rewritten line on a terminal, a plain line per phase change otherwise.
 */
/**
 * `requested` is the server as the start/stop request answered it. A `failed` it showed is the old
 * failure, which the loop has not taken up yet: only a failure that began after it (a newer `since`)
 * is final for this wait.
 */
export async function waitFor(
  client: ApiClient,
  id: string,
  target: 'running' | 'archived',
  options: { timeoutMs: number; out: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>; pollMs?: number; requested?: Pick<ServerJson, 'phase' | 'since'> & Partial<Pick<ServerJson, 'tickError'>> },
): Promise<void> {
  const { out } = options;
  const started = Date.now();
  const typical = typicalDuration(await client.journal(id), target);
  let lastPhase = '';
  for (;;) {
    const server = await client.server(id);
    const elapsed = Date.now() - started;
    const done = server.phase === target;
    // Under a second left is "any moment", not "about 488ms left"; done is done.
    const eta = !done && typical !== undefined && typical - elapsed >= 1_000 ? `, about ${formatDuration(typical - elapsed)} left` : '';
    const line = `${id}: ${server.phase} (${formatDuration(elapsed)} elapsed${eta})`;
    if (out.isTTY) out.write(`\r\x1b[K${line}`);
    else if (server.phase !== lastPhase) out.write(`${line}\n`);
    lastPhase = server.phase;
    if (done) {
      if (out.isTTY) out.write('\n');
      if (target === 'running') out.write(`${id} is running at ${server.address}\n`);
      else out.write(`${id} is archived\n`);
      return;
    }
    // A check that failed after the request: nothing moves until one gets through, so waiting tells nothing.
    const checks = server.tickError;
    if (checks && checks.lastAt !== options.requested?.tickError?.lastAt) {
      if (out.isTTY) out.write('\n');
      const n = checks.failures;
      throw new ApiError(`${id}: OoD could not check on it (${n} failure${n === 1 ? '' : 's'} in a row): ${checks.message}. It keeps trying; \`ood status\` shows when a check gets through`, null, false);
    }
    const oldFailure = options.requested?.phase === 'failed' && server.since === options.requested.since;
    if (server.phase === 'failed' && !oldFailure) {
      if (out.isTTY) out.write('\n');
      throw new ApiError(`${id} failed: ${server.lastError ?? 'no reason recorded'}. See \`ood journal ${id}\``, null, false);
    }
    if (elapsed > options.timeoutMs) {
      if (out.isTTY) out.write('\n');
      throw new ApiError(`${id} did not reach ${target} within ${formatDuration(options.timeoutMs)}; it is ${server.phase}`, null, false);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}
