import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, homedir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';
import type { Checkpoint, UpdateRecord } from './types.js';

/**
 * The file ("DIY") backend, laid out like the real one in project mode so the real CLI could read it:
 * `.pulumi/stacks/<project>/<stack>.json`, `.pulumi/history/<project>/<stack>/<stack>-<ns>.history.json`,
 * `.pulumi/locks/organization/<project>/<stack>/<id>.json`. Only `file://` URLs are supported.
 */
export class FileBackend {
  readonly root: string;
  private readonly lockId = randomUUID();

  constructor(readonly url: string) {
    if (!url.startsWith('file://')) {
      throw new CliError(
        `the pulumi stand-in only supports file:// backends, not ${url.replace(/\/\/[^@/]*@/, '//****@')}; set PULUMI_BACKEND_URL=file://<dir>`,
      );
    }
    const raw = decodeURIComponent(url.slice('file://'.length).replace(/\?.*$/, ''));
    const expanded = raw === '~' || raw.startsWith('~/') ? join(homedir(), raw.slice(1)) : raw;
    this.root = resolve(expanded);
    if (!existsSync(this.root)) throw new CliError(`the backend directory ${this.root} does not exist`);
    const meta = join(this.root, '.pulumi', 'meta.yaml');
    if (!existsSync(meta)) {
      mkdirSync(dirname(meta), { recursive: true });
      writeFileSync(meta, 'version: 1\n');
    }
  }

  /** One line per command, for whoever debugs a test run. Never given secrets. */
  log(line: string): void {
    appendFileSync(join(this.root, '.pulumi', 'standin.log'), `${new Date().toISOString()} [${process.pid}] ${line}\n`);
  }

  private stackFile(project: string, stack: string): string {
    return join(this.root, '.pulumi', 'stacks', project, `${stack}.json`);
  }

  private historyDir(project: string, stack: string): string {
    return join(this.root, '.pulumi', 'history', project, stack);
  }

  lockDir(project: string, stack: string): string {
    return join(this.root, '.pulumi', 'locks', 'organization', project, stack);
  }

  exists(project: string, stack: string): boolean {
    return existsSync(this.stackFile(project, stack));
  }

  listStacks(project: string): string[] {
    const dir = join(this.root, '.pulumi', 'stacks', project);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  }

  readCheckpoint(project: string, stack: string): Checkpoint {
    const file = this.stackFile(project, stack);
    if (!existsSync(file)) throw new CliError(`no stack named '${stack}' found`);
    return JSON.parse(readFileSync(file, 'utf8')) as Checkpoint;
  }

  /** Write-then-rename, so a crash never leaves half a checkpoint. */
  writeCheckpoint(project: string, stack: string, checkpoint: Checkpoint): void {
    const file = this.stackFile(project, stack);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(checkpoint, null, 4));
    renameSync(tmp, file);
  }

  removeStack(project: string, stack: string): void {
    rmSync(this.stackFile(project, stack), { force: true });
    rmSync(this.historyDir(project, stack), { recursive: true, force: true });
  }

  /** Newest first, like the real backend. */
  listHistory(project: string, stack: string): UpdateRecord[] {
    const dir = this.historyDir(project, stack);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.history.json'))
      .sort()
      .reverse()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as UpdateRecord);
  }

  addHistory(project: string, stack: string, record: UpdateRecord): void {
    const dir = this.historyDir(project, stack);
    mkdirSync(dir, { recursive: true });
    const prefix = join(dir, `${stack}-${process.hrtime.bigint() + BigInt(Date.now()) * 1_000_000n}`);
    writeFileSync(`${prefix}.history.json`, JSON.stringify(record, null, 4));
    const stackFile = this.stackFile(project, stack);
    if (existsSync(stackFile)) writeFileSync(`${prefix}.checkpoint.json`, readFileSync(stackFile));
  }

  /** Same algorithm and message as the real backend: check, write ours, check again. */
  lock(project: string, stack: string): () => void {
    const dir = this.lockDir(project, stack);
    const mine = join(dir, `${this.lockId}.json`);
    this.checkForLock(dir, mine, stack);
    mkdirSync(dir, { recursive: true });
    const content = { pid: process.pid, username: userInfo().username, hostname: hostname(), timestamp: new Date().toISOString() };
    writeFileSync(mine, JSON.stringify(content));
    try {
      this.checkForLock(dir, mine, stack);
    } catch (err) {
      unlinkSync(mine);
      throw err;
    }
    return () => rmSync(mine, { force: true });
  }

  /** `pulumi cancel` on a file backend: removes every lock of the stack. */
  removeLocks(project: string, stack: string): number {
    const dir = this.lockDir(project, stack);
    if (!existsSync(dir)) return 0;
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    for (const f of files) rmSync(join(dir, f), { force: true });
    return files.length;
  }

  private checkForLock(dir: string, mine: string, stack: string): void {
    if (!existsSync(dir)) return;
    const others = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => join(dir, f))
      .filter((f) => f !== mine);
    if (others.length === 0) return;
    const lines = others.map((f) => {
      let who = 'unknown';
      try {
        const l = JSON.parse(readFileSync(f, 'utf8')) as { pid: number; username: string; hostname: string; timestamp: string };
        who = `${l.username}@${l.hostname} (pid ${l.pid}) at ${l.timestamp}`;
      } catch (err) {
        // The other process may be mid-write or just removed its lock; the lock still counts.
        who = `unknown (${(err as Error).message})`;
      }
      return `\n  file://${f}: created by ${who}`;
    });
    throw new CliError(
      `the stack is currently locked by ${others.length} lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.${lines.join('')}`,
      255,
      { cause: new Error(`stack ${stack} locked`) },
    );
  }
}
