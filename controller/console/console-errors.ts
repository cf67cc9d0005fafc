/** A console command the game would not take, in words a person can act on (400). */
export class ConsoleCommandError extends Error {
  readonly status = 400;
  readonly expose = true;
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleCommandError';
  }
}

/** The console only speaks to a running game (409). */
export class ConsoleNotRunningError extends Error {
  readonly status = 409;
  readonly expose = true;
  constructor(readonly server: string, readonly phase: string) {
    super(`${server} is ${phase}; the console takes commands only while it is running`);
    this.name = 'ConsoleNotRunningError';
  }
}

/** Too many commands waiting for the game's answer on one server (429). */
export class ConsoleBusyError extends Error {
  readonly status = 429;
  readonly expose = true;
  constructor(readonly server: string, readonly inFlight: number) {
    super(`${server}'s console already waits for ${inFlight} answers; send the next command when one has come`);
    this.name = 'ConsoleBusyError';
  }
}
