import { SshError } from '../../errors.js';
import { parseProperties, updateProperties } from '../../minecraft/properties.js';
import type { SshHost, SshTarget } from './ssh-host.js';

/** Where the image keeps Minecraft, and what supervisord calls it (README.md beside this file). */
export const GAME_DIR = '/srv/minecraft';
export const PROGRAM = 'minecraft';
const PROPERTIES = `${GAME_DIR}/server.properties`;

/** supervisord's process states (http://supervisord.org/subprocess.html#process-states). */
export type ProcessState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'BACKOFF' | 'STOPPING' | 'EXITED' | 'FATAL' | 'UNKNOWN';

/** States in which the game's process exists (or is about to, or is still saving on its way out). */
export const PROCESS_UP: ReadonlySet<ProcessState> = new Set(['STARTING', 'RUNNING', 'STOPPING', 'BACKOFF']);

/** `minecraft   RUNNING   pid 1234, uptime 0:01:02` → RUNNING. */
export function parseStatus(stdout: string): ProcessState | undefined {
  const match = new RegExp(`^${PROGRAM}\\s+([A-Z]+)`, 'm').exec(stdout);
  return match?.[1] as ProcessState | undefined;
}

/**
 * The game on a droplet, driven over SSH: supervisorctl for its process, and its `server.properties`.
 * Every command is one `exec` on the host's kept connection.
 */
export class RemoteGame {
  constructor(
    private readonly ssh: SshHost,
    private readonly target: () => SshTarget,
  ) {}

  async status(): Promise<ProcessState> {
    // supervisorctl exits non-zero for every state but RUNNING: read what it printed, not its code.
    const { stdout, stderr } = await this.run(`supervisorctl status ${PROGRAM}`, [0, 3]);
    const state = parseStatus(stdout);
    if (!state) throw new SshError(`supervisorctl status on ${this.target().host} printed no state for "${PROGRAM}": ${(stdout + stderr).trim().slice(0, 200)}`, true);
    return state;
  }

  async start(): Promise<void> {
    const { stdout } = await this.run(`supervisorctl start ${PROGRAM}`, [0, 1, 7]);
    if (/ERROR/.test(stdout) && !/already started/.test(stdout)) {
      throw new SshError(`supervisorctl could not start ${PROGRAM} on ${this.target().host}: ${stdout.trim().slice(0, 300)}; see ${GAME_DIR}/logs`, true);
    }
  }

  /** Stops the game with SIGTERM and waits for it to exit (supervisord's stopwaitsecs), so it saves. */
  async stop(timeoutMs: number): Promise<void> {
    const { stdout } = await this.run(`supervisorctl stop ${PROGRAM}`, [0, 1, 7], timeoutMs);
    if (/ERROR/.test(stdout) && !/not running/.test(stdout)) throw new SshError(`supervisorctl could not stop ${PROGRAM} on ${this.target().host}: ${stdout.trim().slice(0, 300)}`, true);
  }

  async signal(signal: 'TERM' | 'KILL'): Promise<void> {
    await this.run(`supervisorctl signal ${signal} ${PROGRAM}`, [0, 1, 7]);
  }

  async readProperties(): Promise<Map<string, string>> {
    const { stdout } = await this.run(`cat ${PROPERTIES} 2>/dev/null || true`, [0]);
    return parseProperties(stdout);
  }

  /**
   * Changes some keys of `server.properties`, keeping every other line: temp file, owner and mode of the
   * old file (0600: it holds the RCON password), rename, sync.
   */
  async writeProperties(updates: Record<string, string>): Promise<void> {
    const { stdout: current } = await this.run(`cat ${PROPERTIES} 2>/dev/null || true`, [0]);
    const script = [
      'set -e',
      `f=${PROPERTIES}; t="$f.ood-tmp"`,
      'umask 077',
      'cat > "$t"',
      'if [ -e "$f" ]; then chown --reference="$f" "$t"; elif id minecraft >/dev/null 2>&1; then chown minecraft: "$t"; fi',
      'chmod 600 "$t"',
      'mv -f "$t" "$f"',
      'sync',
    ].join('\n');
    await this.run(script, [0], undefined, updateProperties(current, updates));
  }

  private async run(command: string, okCodes: number[], timeoutMs?: number, stdin?: string) {
    const result = await this.ssh.exec(this.target(), command, { ...(stdin === undefined ? {} : { stdin }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    if (result.code === null || !okCodes.includes(result.code)) {
      const name = command.split('\n')[0]!.slice(0, 60);
      throw new SshError(`"${name}" on ${this.target().host} exited with ${result.code}: ${(result.stderr || result.stdout).trim().slice(0, 300)}`, true);
    }
    return result;
  }
}
