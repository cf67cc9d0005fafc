import { boolFlag, flag, type ParsedArgs } from '../cli-args.js';
import { STANDIN_VERSION } from '../engine/deployment.js';
import { decryptSecrets, masked, plain } from '../engine/properties.js';
import { CliError } from '../errors.js';
import { out } from '../output.js';
import type { PropertyMap } from '../types.js';
import type { StackContext } from '../workspace.js';

const json = (v: unknown): void => out(JSON.stringify(v, null, 2));

export function stackInit(ctx: StackContext): number {
  if (ctx.backend.exists(ctx.project, ctx.stack)) throw new CliError(`stack '${ctx.stack}' already exists`);
  const secrets = ctx.secrets();
  ctx.backend.writeCheckpoint(ctx.project, ctx.stack, {
    version: 3,
    checkpoint: {
      stack: `organization/${ctx.project}/${ctx.stack}`,
      latest: {
        manifest: { time: new Date().toISOString(), magic: 'pulumi-standin', version: `v${STANDIN_VERSION}` },
        secrets_providers: { type: 'passphrase', state: { salt: secrets.salt } },
        resources: [],
      },
    },
  });
  out(`Created stack '${ctx.stack}'`);
  return 0;
}

export function stackSelect(ctx: StackContext): number {
  ctx.requireStack();
  return 0;
}

export function stackLs(ctx: StackContext, args: ParsedArgs): number {
  const stacks = ctx.backend.listStacks(ctx.project).map((name) => {
    const latest = ctx.backend.readCheckpoint(ctx.project, name).checkpoint.latest;
    const last = ctx.backend.listHistory(ctx.project, name)[0];
    return {
      name,
      current: false,
      ...(last ? { lastUpdate: new Date(last.endTime * 1000).toISOString() } : {}),
      updateInProgress: false,
      resourceCount: latest?.resources.length ?? 0,
      url: `${ctx.backend.url}/.pulumi/stacks/${ctx.project}/${name}.json`,
    };
  });
  if (boolFlag(args, 'json')) json(stacks);
  else for (const s of stacks) out(`${s.name}\t${s.lastUpdate ?? 'n/a'}\t${s.resourceCount}`);
  return 0;
}

export function stackRm(ctx: StackContext, args: ParsedArgs): number {
  ctx.requireStack();
  const resources = ctx.backend.readCheckpoint(ctx.project, ctx.stack).checkpoint.latest?.resources ?? [];
  if (!boolFlag(args, 'force') && resources.length > 0) {
    throw new CliError(`'${ctx.stack}' still has resources; removal rejected. Possible actions:\n- Make sure that '${ctx.stack}' is the stack that you want to destroy\n- Run \`pulumi destroy\` to delete the resources, then run \`pulumi stack rm\`\n- Run \`pulumi stack rm --force\` to override this error`);
  }
  ctx.backend.removeStack(ctx.project, ctx.stack);
  out(`Stack '${ctx.stack}' has been removed!`);
  return 0;
}

/** `stack output --json [--show-secrets]`: secrets print as "[secret]" unless shown, as Automation expects. */
export function stackOutput(ctx: StackContext, args: ParsedArgs): number {
  ctx.requireStack();
  const latest = ctx.backend.readCheckpoint(ctx.project, ctx.stack).checkpoint.latest;
  const root = latest?.resources.find((r) => r.type === 'pulumi:pulumi:Stack' && !r.delete);
  let outputs: PropertyMap = {};
  if (root) {
    const show = boolFlag(args, 'show-secrets');
    // Decrypting needs the passphrase; the masked view does not look inside secrets.
    outputs = show ? (plain(decryptSecrets(root.outputs, ctx.secrets())) as PropertyMap) : (masked(root.outputs) as PropertyMap);
  }
  const name = args.positionals[0];
  if (name !== undefined) {
    if (!(name in outputs)) throw new CliError(`current stack does not have output property '${name}'`);
    if (boolFlag(args, 'json')) json(outputs[name]);
    else out(String(outputs[name]));
    return 0;
  }
  if (boolFlag(args, 'json')) json(outputs);
  else for (const [k, v] of Object.entries(outputs)) out(`${k}\t${JSON.stringify(v)}`);
  return 0;
}

/** `stack history --json`, field for field like the real CLI's updateInfoJSON, newest first. */
export function stackHistory(ctx: StackContext, args: ParsedArgs): number {
  ctx.requireStack();
  let updates = ctx.backend.listHistory(ctx.project, ctx.stack);
  const pageSize = Number(flag(args, 'page-size') ?? 0);
  if (pageSize > 0) {
    const page = Math.max(1, Number(flag(args, 'page') ?? 1));
    updates = updates.slice((page - 1) * pageSize, page * pageSize);
  }
  const show = boolFlag(args, 'show-secrets');
  const time = (s: number): string => new Date(s * 1000).toISOString();
  const entries = updates.map((u) => ({
    version: u.version,
    kind: u.kind,
    startTime: time(u.startTime),
    message: u.message,
    environment: u.environment,
    config: Object.fromEntries(
      Object.entries(u.config).map(([k, v]) =>
        typeof v === 'string' ? [k, { value: v, secret: false }] : [k, show ? { value: ctx.secrets().decrypt(v.secure), secret: true } : { secret: true }],
      ),
    ),
    result: u.result,
    ...(u.result !== 'in-progress' ? { endTime: time(u.endTime), resourceChanges: u.resourceChanges ?? {} } : {}),
  }));
  if (boolFlag(args, 'json')) json(entries);
  else {
    for (const e of entries) {
      out(`${e.kind.toUpperCase()} ${e.result.toUpperCase()}\n  Message: ${e.message}\n  Started: ${e.startTime}\n  Ended: ${e.endTime ?? ''}\n  Changes: ${JSON.stringify(e.resourceChanges ?? {})}\n`);
    }
  }
  return 0;
}

export function stackExport(ctx: StackContext, args: ParsedArgs): number {
  ctx.requireStack();
  const latest = ctx.backend.readCheckpoint(ctx.project, ctx.stack).checkpoint.latest;
  const show = boolFlag(args, 'show-secrets');
  const resources = (latest?.resources ?? []).map((r) =>
    show ? { ...r, inputs: decryptSecrets(r.inputs, ctx.secrets()), outputs: decryptSecrets(r.outputs, ctx.secrets()) } : r,
  );
  json({ version: 3, deployment: { ...latest, resources } });
  return 0;
}

export function cancel(ctx: StackContext): number {
  const n = ctx.backend.removeLocks(ctx.project, ctx.stack);
  out(n > 0 ? `The currently running update for '${ctx.stack}' has been canceled!` : `There is no update in progress for '${ctx.stack}'`);
  return 0;
}
