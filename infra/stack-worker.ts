/**
 * Runs one operation on a server's stack in a process of its own, for the controller: the Pulumi SDK
 * (about 80 MB resident once loaded) and the inline program's language host live here only while an
 * operation runs, not in the always-on controller. The request is one JSON line on stdin; log lines
 * and then one result line go to stdout. When the controller dies, stdin closes and this process ends
 * too, so an update cut off by a kill -9 fails as it would in-process (the CLI records it).
 */
import { createInterface } from 'node:readline';
import { builderProgram, type BuilderSpec } from './builder-program.js';
import { serverProgram, type ServerSpec } from './program.js';
import { checkPulumiCli, ServerStack } from './stack.js';

export type WorkerRequest =
  | { op: 'check'; pulumiCommand?: string; dataDir: string }
  | {
      op: 'up' | 'destroy' | 'refresh' | 'outputs' | 'history' | 'droplet' | 'pending' | 'settle';
      /** A server's stack (`ood-<server>`), or an image build's builder stack (`ood-image-<server>`). */
      spec: ServerSpec | ({ builder: true } & BuilderSpec);
      dataDir: string;
      env: Record<string, string | undefined>;
      pulumiCommand?: string;
      config?: Record<string, { value: string; secret?: boolean }>;
      message?: string;
      /** For `settle`: each pending create's urn → the id it was found under, or null. */
      found?: Record<string, string | null>;
    };

export type WorkerLine =
  | { log: { level: 'debug' | 'info' | 'warn'; msg: string } }
  | { result: unknown }
  | { error: { name: string; message: string; retryable: boolean } };

const write = (line: WorkerLine) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function run(req: WorkerRequest): Promise<unknown> {
  if (req.op === 'check') return checkPulumiCli(req.pulumiCommand, req.dataDir);
  const spec = req.spec;
  const stack = await ServerStack.open({
    server: 'builder' in spec ? `image-${spec.server}` : spec.server,
    program: 'builder' in spec ? builderProgram(spec) : serverProgram(spec),
    dataDir: req.dataDir,
    env: req.env,
    ...(req.pulumiCommand ? { pulumiCommand: req.pulumiCommand } : {}),
    log: (level, msg) => write({ log: { level, msg } }),
  });
  if (req.config && Object.keys(req.config).length > 0) await stack.setConfig(req.config);
  switch (req.op) {
    case 'up':
      return stack.up(req.message ?? 'ood');
    case 'destroy':
      return stack.destroy(req.message ?? 'ood');
    case 'refresh':
      return stack.refresh(req.message ?? 'ood');
    case 'outputs':
      return stack.outputs();
    case 'history':
      return stack.history();
    case 'droplet':
      return stack.dropletId();
    case 'pending':
      return stack.pendingCreates();
    case 'settle':
      return stack.settlePendingCreates(req.found ?? {}, req.message ?? 'ood');
  }
}

const lines = createInterface({ input: process.stdin });
let started = false;
lines.on('line', (text) => {
  if (started) return;
  started = true;
  run(JSON.parse(text) as WorkerRequest).then(
    (result) => {
      write({ result: result ?? null });
      process.exit(0);
    },
    (err: unknown) => {
      const e = err as { name?: string; message?: string; retryable?: boolean };
      write({ error: { name: e.name ?? 'Error', message: e.message ?? String(err), retryable: e.retryable ?? true } });
      process.exit(1);
    },
  );
});
// The controller is gone: end with it, as the inline program would have ended with it in-process.
// SIGKILL, not exit(): exit handlers (execa's cleanup) would kill the pulumi CLI too, and the CLI must
// live on to record what it made and release the stack's lock, as after a kill -9 of the controller.
lines.on('close', () => process.kill(process.pid, 'SIGKILL'));
