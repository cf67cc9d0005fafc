import { boolFlag, flag, type ParsedArgs } from '../cli-args.js';
import { Deployment, STANDIN_VERSION } from '../engine/deployment.js';
import { EventSink } from '../engine/events.js';
import { startEngineServers } from '../engine/monitor.js';
import { Reporter } from '../engine/reporter.js';
import { runProgram, type ProgramRun } from '../engine/run-program.js';
import { CliError } from '../errors.js';
import { err } from '../output.js';
import type { StackContext } from '../workspace.js';

const FAILURE_GRACE_MS = 2000;

/**
 * `up` and `destroy`: lock the stack, step the resources, and whatever happens record the update in
 * the history and unlock — also when the program's host died under us (its connection fails, we
 * finish the steps in flight, record `failed` and exit non-zero).
 */
export async function runUpdate(ctx: StackContext, kind: 'update' | 'destroy', args: ParsedArgs): Promise<number> {
  if (boolFlag(args, 'preview-only')) throw new CliError('the pulumi stand-in does not implement previews');
  ctx.requireStack();
  const config = ctx.config(); // needs the passphrase: fail before locking
  const client = flag(args, 'client');
  if (kind === 'update' && !client) throw new CliError('the pulumi stand-in runs inline programs only (Automation passes --client)');
  const events = new EventSink(flag(args, 'event-log'), (msg) => ctx.backend.log(msg));
  const report = new Reporter(events, ctx.backend);
  const release = ctx.backend.lock(ctx.project, ctx.stack);
  const started = Date.now();
  let deployment: Deployment | undefined;
  let failure: string | undefined;
  let run: ProgramRun | undefined;
  const onSignal = (signal: string): void => {
    ctx.backend.log(`received ${signal}; canceling the update`);
    if (deployment) deployment.canceled = true;
    run?.cancel();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    deployment = new Deployment(ctx, report);
    report.prelude(`${kind === 'update' ? 'Updating' : 'Destroying'} (${ctx.stack}):`, config);
    if (kind === 'update') {
      const servers = await startEngineServers(deployment, report);
      try {
        run = runProgram({ client: client as string, project: ctx.project, stack: ctx.stack, pwd: ctx.cwd, config, ...servers });
        // After a failed step the program may wait forever on outputs that will never come (the
        // real engine stops waiting too): give it a moment to report, then end the run ourselves.
        const afterFailure = deployment.firstFailure.then(() => new Promise<string>((r) => setTimeout(() => r(''), FAILURE_GRACE_MS)));
        const programError = await Promise.race([run.result, afterFailure]);
        run.cancel();
        await deployment.settle();
        if (deployment.canceled) failure = 'update canceled';
        else if (programError) failure = `Running program '${ctx.cwd}' failed with an unhandled exception:\n${programError}`;
        else if (report.errors.length > 0) failure = 'update failed';
        else await deployment.deleteUnregistered();
      } finally {
        servers.close();
      }
    } else {
      await deployment.destroyAll();
    }
  } catch (e) {
    await deployment?.settle();
    failure = e instanceof Error ? e.message : String(e);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    const seconds = Math.round((Date.now() - started) / 1000);
    report.summary(deployment?.changes ?? {}, seconds, deployment?.stackOutputs());
    try {
      ctx.backend.addHistory(ctx.project, ctx.stack, {
      kind,
      startTime: Math.floor(started / 1000),
      message: flag(args, 'message') ?? '',
      environment: { 'exec.kind': flag(args, 'exec-kind') ?? 'cli', 'pulumi.version': `v${STANDIN_VERSION}` },
      config: ctx.rawConfig(),
      // The real file backend stores no version number (it prints 0); kept faithful.
      version: 0,
      result: failure === undefined ? 'succeeded' : 'failed',
      endTime: Math.floor(Date.now() / 1000),
      resourceChanges: deployment?.changes ?? {},
      });
    } finally {
      release();
    }
    ctx.backend.log(`${kind} ${failure === undefined ? 'succeeded' : `failed: ${failure.split('\n')[0]}`}`);
    await events.close();
  }
  if (failure !== undefined) {
    err(`error: ${failure}`);
    return 255;
  }
  return 0;
}
