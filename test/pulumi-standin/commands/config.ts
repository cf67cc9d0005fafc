import { boolFlag, type ParsedArgs } from '../cli-args.js';
import { CliError } from '../errors.js';
import { out } from '../output.js';
import type { StackContext } from '../workspace.js';

/** `config [get|set|set-all|rm|rm-all]`, stored in Pulumi.<stack>.yaml beside Pulumi.yaml like the real CLI. */
export function configCommand(ctx: StackContext, sub: string | undefined, args: ParsedArgs): number {
  if (boolFlag(args, 'path')) throw new CliError('the pulumi stand-in does not support --path config keys');
  ctx.requireStack();
  const [a, b] = args.positionals;
  switch (sub) {
    case undefined: {
      const show = boolFlag(args, 'show-secrets');
      const all = ctx.config();
      if (boolFlag(args, 'json')) {
        out(JSON.stringify(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, { value: v.secret && !show ? '[secret]' : v.value, secret: v.secret }])), null, 2));
      } else {
        for (const [k, v] of Object.entries(all)) out(`${k}\t${v.secret && !show ? '[secret]' : v.value}`);
      }
      return 0;
    }
    case 'get': {
      if (!a) throw new CliError('config get needs a key');
      const v = ctx.config()[ctx.normalizeKey(a)];
      if (!v) throw new CliError(`configuration key '${ctx.normalizeKey(a)}' not found for stack '${ctx.stack}'`);
      out(boolFlag(args, 'json') ? JSON.stringify({ value: v.value, secret: v.secret }, null, 2) : v.value);
      return 0;
    }
    case 'set': {
      if (!a) throw new CliError('config set needs a key');
      if (b === undefined) throw new CliError('config set needs a value (the stand-in never prompts)');
      ctx.setConfig([{ key: a, value: b, secret: boolFlag(args, 'secret') }]);
      return 0;
    }
    case 'set-all': {
      ctx.setConfig(
        args.pairs.map(({ secret, pair }) => {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new CliError(`could not parse ${secret ? '--secret' : '--plaintext'} argument: expected key=value`);
          return { key: pair.slice(0, eq), value: pair.slice(eq + 1), secret };
        }),
      );
      return 0;
    }
    case 'rm':
    case 'rm-all':
      ctx.removeConfig(args.positionals);
      return 0;
    default:
      throw new CliError(`unknown command "config ${sub}" for the pulumi stand-in`);
  }
}
