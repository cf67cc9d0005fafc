import { pino } from 'pino';

export type Logger = pino.Logger;

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

/** A logger that drops everything, for unit tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
