import { CliError } from './errors.js';

/** Flags that never take a value; every other `--flag` takes the next argument (or `--flag=value`). */
const BOOLEAN_FLAGS = new Set([
  'yes', 'skip-preview', 'non-interactive', 'json', 'show-secrets', 'plaintext', 'secret', 'force',
  'preserve-config', 'no-select', 'diff', 'refresh', 'expect-no-changes', 'debug', 'logtostderr',
  'suppress-outputs', 'suppress-progress', 'emoji', 'help', 'path', 'show-urns', 'full-update',
]);
/** Flags that may repeat; their values are collected in order (`config set-all --secret k=v --plaintext k=v`). */
const PAIR_FLAGS = new Set(['plaintext', 'secret']);

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
  /** `config set-all` pairs in order, each marked secret or not. */
  pairs: { secret: boolean; pair: string }[];
}

/** Parses argv loosely, like cobra: flags anywhere, `--` ends flags. */
export function parseArgs(argv: string[], pairCommand: boolean): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  const pairs: ParsedArgs['pairs'] = [];
  const add = (name: string, value: string): void => {
    flags.set(name, [...(flags.get(name) ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (pairCommand && PAIR_FLAGS.has(name) && eq < 0) {
      const pair = argv[++i];
      if (pair === undefined) throw new CliError(`flag --${name} needs a key=value argument`);
      pairs.push({ secret: name === 'secret', pair });
      continue;
    }
    if (eq >= 0) add(name, body.slice(eq + 1));
    else if (BOOLEAN_FLAGS.has(name)) add(name, 'true');
    else {
      const value = argv[++i];
      if (value === undefined) throw new CliError(`flag needs an argument: --${name}`);
      add(name, value);
    }
  }
  return { positionals, flags, pairs };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const values = args.flags.get(name);
  return values?.[values.length - 1];
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  const value = flag(args, name);
  return value !== undefined && value !== 'false';
}
