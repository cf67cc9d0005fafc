import type { Readable } from 'node:stream';
import { SshError } from '../../errors.js';
import type { FollowOptions, LogChunk } from '../../logs/types.js';
import type { SshHost, SshTarget } from './ssh-host.js';

/** Where the image contract's supervisord program writes the game's output (README.md, "The game's log"). */
export const PROGRAM_CONF = '/etc/supervisor/conf.d/minecraft.conf';
export const DEFAULT_GAME_LOG = '/var/log/supervisor/minecraft.log';
/** How far back from the log's end a follower starts at most (logs/local-follow.ts reads as far). */
const MAX_TAIL_BYTES = 4 * 1024 * 1024;
/** Chunks waiting for the reader before the channel is paused (SSH flow control holds the rest). */
const HIGH_WATER = 64;

/**
 * The command run on the droplet: `tail -F` of the log supervisord writes (its `stdout_logfile`, which
 * supervisord rotates by rename), stopped when its stdin ends. Ending stdin is how OoD stops it, and a
 * dropped SSH connection ends it too: no `tail` outlives its follower.
 */
export function followCommand(tail: number, programConf = PROGRAM_CONF): string {
  const lines = Math.max(0, Math.floor(tail));
  return [
    `log=$(sed -n 's/^[[:space:]]*stdout_logfile[[:space:]]*=[[:space:]]*//p' ${programConf} 2>/dev/null | tail -n 1 | sed 's/%%/%/g; s/[[:space:]]*$//')`,
    // AUTO, NONE and %(…)s expansions name no file a plain path can find.
    `case "$log" in ''|AUTO|NONE|*'%('*) log=${DEFAULT_GAME_LOG};; esac`,
    // Where to start: the last `lines` lines, but never more than MAX_TAIL_BYTES back, as the local
    // follower reads. `tail -n` alone sends back to the Nth newline however far: a 64 MiB line with no
    // newline went over SSH whole at every follower start. `tail -c +K` starts at byte K and follows.
    'size=$(stat -c %s -- "$log" 2>/dev/null || echo 0)',
    `back=$(tail -n ${lines} -- "$log" 2>/dev/null | wc -c)`,
    `[ "$back" -gt ${MAX_TAIL_BYTES} ] && back=${MAX_TAIL_BYTES}`,
    'from=$((size - back + 1)); [ "$from" -lt 1 ] && from=1',
    'tail -c +"$from" -F -- "$log" & t=$!',
    'cat >/dev/null',
    'kill $t 2>/dev/null',
  ].join('; ');
}

/** What `tail -F` says on stderr, in OoD's words when it is a rotation or truncation. */
export function tailNote(line: string): string | undefined {
  const text = line.replace(/^tail: /, '').trim();
  // Between the rename and the new file (supervisord reopens at once): the next message says it is back.
  if (!text || /has become inaccessible/.test(text)) return undefined;
  if (/has been replaced|has appeared/.test(text)) return 'log rotated; reading the new file';
  if (/file truncated/.test(text)) return 'log truncated; reading it from the start';
  return text;
}

/** Follows supervisord's log of the game on the droplet over the SSH connection OoD already holds. */
export async function* followRemoteLog(ssh: SshHost, target: () => SshTarget, options: FollowOptions): AsyncIterable<LogChunk> {
  const { signal } = options;
  if (signal.aborted) return;
  const at = target();
  const remote = await ssh.execFollow(at, followCommand(options.tail));
  const queue = new ChunkQueue(remote.stdout);
  remote.stdout.on('data', (bytes: Buffer) => queue.push({ kind: 'data', bytes }));
  let stderr = '';
  remote.stderr.on('data', (bytes: Buffer) => {
    stderr += bytes.toString('utf8');
    const lines = stderr.split('\n');
    stderr = lines.pop()!.slice(-4096);
    for (const line of lines) {
      const text = tailNote(line);
      if (text) queue.push({ kind: 'note', text });
    }
  });
  void remote.done.then(({ code }) => queue.end(code));
  const onAbort = () => {
    remote.close();
    queue.interrupt();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    for (;;) {
      const next = await queue.next(signal);
      if (next === 'aborted') return;
      if ('ended' in next) {
        throw new SshError(`Following the game's log on ${at.host} ended (tail exited with ${next.ended ?? 'no code'}; the connection may have dropped)`, true);
      }
      yield next;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    remote.close();
  }
}

/** Chunks from the channel to the reader, pausing the channel while the reader is behind. */
class ChunkQueue {
  private readonly items: LogChunk[] = [];
  private ended: { ended: number | null } | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly source: Readable) {}

  push(chunk: LogChunk): void {
    this.items.push(chunk);
    if (this.items.length >= HIGH_WATER) this.source.pause();
    this.wake?.();
  }

  /** Wakes a waiting reader (the follow was aborted). */
  interrupt(): void {
    this.wake?.();
  }

  end(code: number | null): void {
    this.ended = { ended: code };
    this.wake?.();
  }

  async next(signal: AbortSignal): Promise<LogChunk | { ended: number | null } | 'aborted'> {
    for (;;) {
      if (signal.aborted) return 'aborted';
      const item = this.items.shift();
      if (item) {
        if (this.items.length < HIGH_WATER / 2) this.source.resume();
        return item;
      }
      if (this.ended) return this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
