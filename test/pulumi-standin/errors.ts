/** A failure the stand-in reports the way the real CLI does: `error: <message>` on stderr, exit 255. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 255,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
