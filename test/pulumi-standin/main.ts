import { userInfo } from 'node:os';
import { boolFlag, flag, parseArgs, type ParsedArgs } from './cli-args.js';
import { configCommand } from './commands/config.js';
import { cancel, stackExport, stackHistory, stackInit, stackLs, stackOutput, stackRm, stackSelect } from './commands/stack.js';
import { CliError } from './errors.js';
import { err, flush, out } from './output.js';
import { StackContext, stackName } from './workspace.js';

/** Entry point of the `pulumi` stand-in (see README.md). Exit codes: 0 ok, 255 error, like the real CLI. */
const STANDIN_VERSION = 'v3.248.0';

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, argv.includes('set-all'));
  const [cmd, sub, ...rest] = args.positionals;
  const context = (stack = flag(args, 'stack') ?? flag(args, 's')): StackContext => {
    const ctx = new StackContext(process.cwd(), stackName(stack), process.env);
    ctx.backend.log(`pulumi ${redact(argv).join(' ')}`);
    return ctx;
  };
  const withRest = (positionals: string[]): ParsedArgs => ({ ...args, positionals });
  switch (cmd) {
    case 'version':
      out(STANDIN_VERSION);
      return 0;
    case 'whoami': {
      const user = userInfo().username;
      out(boolFlag(args, 'json') ? JSON.stringify({ user, organizations: [], url: process.env.PULUMI_BACKEND_URL ?? '' }) : user);
      return 0;
    }
    case 'stack': {
      if (sub === 'ls') return stackLs(context('ls-placeholder'), args);
      if (sub === 'init') return stackInit(context(rest[0] ?? flag(args, 'stack')));
      if (sub === 'select' || sub === undefined) return stackSelect(context(rest[0] ?? flag(args, 'stack')));
      if (sub === 'rm') return stackRm(context(rest[0] ?? flag(args, 'stack')), args);
      if (sub === 'output') return stackOutput(context(), withRest(rest));
      if (sub === 'history') return stackHistory(context(), args);
      if (sub === 'export') return stackExport(context(), args);
      throw new CliError(`unknown command "stack ${sub}" for the pulumi stand-in`);
    }
    case 'config':
      return configCommand(context(), sub, withRest(rest));
    case 'cancel':
      return cancel(context(sub ?? flag(args, 'stack')));
    case 'up':
    case 'update': {
      const { runUpdate } = await import('./commands/update.js');
      return runUpdate(context(), 'update', args);
    }
    case 'destroy': {
      const { runUpdate } = await import('./commands/update.js');
      return runUpdate(context(), 'destroy', args);
    }
    default:
      throw new CliError(`the pulumi stand-in does not implement "${argv.join(' ')}" (see test/pulumi-standin/README.md)`);
  }
}

/** Values after `--` and `k=v` pairs may be secrets: never log them. */
function redact(argv: string[]): string[] {
  const dash = argv.indexOf('--');
  return argv.map((a, i) => ((dash >= 0 && i > dash) || /^[^-][^=]*=/.test(a) ? '***' : a));
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (e) {
  err(`error: ${e instanceof Error ? e.message : String(e)}`);
  code = e instanceof CliError ? e.exitCode : 255;
}
await flush();
process.exit(code);
