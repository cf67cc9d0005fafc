import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BuilderSpec } from '../../../infra/builder-program.js';
import type { ServerSpec } from '../../../infra/program.js';
import type { PendingCreate } from '../../../infra/stack.js';
import type { WorkerLine, WorkerRequest } from '../../../infra/stack-worker.js';
import { CloudError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { StackUpdate } from '../driver.js';
import type { ServerStackLike } from './droplet-stop.js';

export interface StackProcessOptions {
  spec: ServerSpec | ({ builder: true } & BuilderSpec);
  dataDir: string;
  env: Record<string, string | undefined>;
  pulumiCommand?: string;
  log: Logger;
}

/**
 * The server's Pulumi stack, each operation run by `infra/stack-worker.ts` in a child process: the
 * Pulumi SDK costs about 80 MB resident, which the controller would otherwise carry all month for two
 * updates a session. Config set here travels with the next operation.
 */
export class StackProcess implements ServerStackLike {
  private pending: Record<string, { value: string; secret?: boolean }> = {};

  constructor(private readonly opts: StackProcessOptions) {}

  async setConfig(values: Record<string, { value: string; secret?: boolean }>): Promise<void> {
    this.pending = { ...this.pending, ...values };
  }

  async up(message: string): Promise<{ outputs: Record<string, unknown> }> {
    return (await this.run('up', message)) as { outputs: Record<string, unknown> };
  }

  async destroy(message: string): Promise<void> {
    await this.run('destroy', message);
  }

  async refresh(message: string): Promise<void> {
    await this.run('refresh', message);
  }

  async outputs(): Promise<Record<string, unknown>> {
    return (await this.run('outputs')) as Record<string, unknown>;
  }

  async history(): Promise<StackUpdate[]> {
    return (await this.run('history')) as StackUpdate[];
  }

  async dropletId(): Promise<number | null> {
    return (await this.run('droplet')) as number | null;
  }

  async pendingCreates(): Promise<PendingCreate[]> {
    return (await this.run('pending')) as PendingCreate[];
  }

  async settlePendingCreates(found: Record<string, string | null>, message: string): Promise<void> {
    await this.run('settle', message, found);
  }

  private async run(op: 'up' | 'destroy' | 'refresh' | 'outputs' | 'history' | 'droplet' | 'pending' | 'settle', message?: string, found?: Record<string, string | null>): Promise<unknown> {
    const config = this.pending;
    const { spec, dataDir, env, pulumiCommand } = this.opts;
    const result = await runWorker(
      { op, spec, dataDir, env, ...(pulumiCommand ? { pulumiCommand } : {}), config, ...(message ? { message } : {}), ...(found ? { found } : {}) },
      this.opts.log.child({ stack: `ood-${spec.server}` }),
    );
    // Stored in the stack by now: later operations need not send it again.
    if (this.pending === config) this.pending = {};
    return result;
  }
}

/** Asks the `pulumi` CLI for its version (through the worker, so the controller never loads the SDK). */
export async function checkPulumi(pulumiCommand: string | undefined, dataDir: string, log: Logger): Promise<string> {
  return (await runWorker({ op: 'check', dataDir, ...(pulumiCommand ? { pulumiCommand } : {}) }, log)) as string;
}

function runWorker(req: WorkerRequest, log: Logger): Promise<unknown> {
  const [file, ...args] = workerCommand();
  const child = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // stdin stays open while the controller lives: the worker ends when it closes.
  child.stdin.write(`${JSON.stringify(req)}\n`);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  return new Promise((resolve, reject) => {
    let settled = false;
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: WorkerLine;
      try {
        line = JSON.parse(text) as WorkerLine;
      } catch {
        log.debug({ line: text.slice(0, 500) }, 'Pulumi worker output');
        return;
      }
      if ('log' in line) log[line.log.level](line.log.msg);
      else if ('result' in line) {
        settled = true;
        resolve(line.result);
      } else {
        settled = true;
        reject(new CloudError(line.error.message, line.error.retryable));
      }
    });
    child.once('error', (err) => reject(new CloudError(`Could not start the Pulumi worker: ${err.message}`, true, { cause: err })));
    child.once('exit', (code, signal) => {
      child.stdin.destroy();
      if (!settled) reject(new CloudError(`The Pulumi worker for ${req.op} ended (${signal ?? `code ${code}`}) without an answer: ${stderr.trim().slice(-1_000)}`, true));
    });
  });
}

/** The bundled worker next to the bundled CLI (dist/), else the TypeScript source through tsx. */
function workerCommand(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  let root = here;
  while (!existsSync(join(root, 'package.json'))) root = dirname(root);
  const bundled = join(root, 'dist', 'stack-worker.mjs');
  if (here.startsWith(join(root, 'dist')) && existsSync(bundled)) return [process.execPath, bundled];
  return [process.execPath, '--import', import.meta.resolve('tsx'), join(root, 'infra', 'stack-worker.ts')];
}
