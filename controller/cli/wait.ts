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
  options: { timeoutMs: number; out: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>; pollMs?: number; requested?: Pick<ServerJson, 'phase' | 'since'> },
): Promise<void> {
  const { out } = options;
  const started = Date.now();
  const typical = typicalDuration(await client.journal(id), target);
  let lastPhase = '';
  for (;;) {
    const server = await client.server(id);
    const elapsed = Date.now() - started;
    const eta = typical !== undefined && typical > elapsed ? `, about ${formatDuration(typical - elapsed)} left` : '';
    const line = `${id}: ${server.phase} (${formatDuration(elapsed)} elapsed${eta})`;
    if (out.isTTY) out.write(`\r\x1b[K${line}`);
    else if (server.phase !== lastPhase) out.write(`${line}\n`);
    lastPhase = server.phase;
    if (server.phase === target) {
      if (out.isTTY) out.write('\n');
      if (target === 'running') out.write(`${id} is running at ${server.address}\n`);
      else out.write(`${id} is archived\n`);
      return;
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
