import { pino } from 'pino';

export type Logger = pino.Logger;

/** How log lines look: `pretty` for people, `json` (one object a line) for machines, `auto` picks. */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * One structured logger; components take a child (`log.child({ component: 'reconcile', server })`).
 * Secrets are redacted by key wherever they appear, as a second line of defence: OoD does not log them.
 */
export function createLogger(level: string, destination: pino.DestinationStream | undefined = undefined): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    redact: { paths: ['password', 'token', 'authorization', '*.password', '*.token', '*.authorization', 'headers.authorization'], censor: '[secret]' },
  };
  return pino(options, destination ?? pino.destination({ fd: 2, sync: true }));
}

/**
 * Where `ood serve` writes its log (stderr, beside the greeting on stdout): readable lines when that is
 * a terminal (`auto`) or `pretty` is asked for, JSON otherwise, so a journal or a pipe to `jq` still
 * gets one object a line. Redaction happens in pino before either. Both write synchronously, as the
 * JSON one always has, so the line before a process.exit() is not lost.
 */
export async function logDestination(format: LogFormat, fd = 2, isTTY = fd === 2 ? process.stderr.isTTY : process.stdout.isTTY): Promise<pino.DestinationStream> {
  if (format === 'json' || (format === 'auto' && !isTTY)) return pino.destination({ fd, sync: true });
  // Loaded only here: pino-pretty and its helpers are for people at a terminal.
  const { default: pretty } = await import('pino-pretty');
  return pretty({ destination: fd, sync: true, colorize: isTTY === true, singleLine: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
}

/** A logger that drops everything, for unit tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
