import { writeFileSync } from 'node:fs';
import type { Server } from 'node:net';

/** How often the game tries its port again while OoD's lobby still holds it. */
const RETRY_MS = 1;
/**
 * How long the game keeps trying. Under flying-squid's own 5 s wait for 'listening' (its
 * src/index.js `onceWithTimeout(this._server, 'listening', 5000)`), past which it gives up anyway.
 */
export const HANDOVER_WINDOW_MS = 4_000;
/**
 * The game asks for its port once it can answer, or this long after it was created, whichever is
 * first: past flying-squid's 5 s it would stop waiting for 'listening' and never become ready.
 */
export const ASK_BY_MS = 3_000;

/** `ready`, or `ASK_BY_MS` from now if that comes first. */
export function readyOrLate(ready: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ASK_BY_MS)));
  return Promise.race([ready, late]).finally(() => clearTimeout(timer));
}

/**
 * The bundled game's side of the port hand-over with OoD's lobby in wake mode (issue 18, item 10).
 * The lobby answers on the game's port while the server sleeps. Letting go of it before the game is
 * started left the port answering nobody while the game loaded (5–9 s measured here, every status
 * ping refused). So the local driver starts the game with the lobby still listening and
 * `OOD_PORT_HANDOVER` naming a file; the game loads, tries to listen, and on EADDRINUSE writes the
 * file and tries again every few ms; the driver sees the file and closes the lobby, and the game's
 * next try binds. The file is written once the game listens too, so the driver never waits on a
 * game that found the port free.
 */
export class PortHandover {
  private listening = false;
  private signalled = false;
  private readonly until: number;

  constructor(
    private readonly socketServer: Server,
    private readonly signalPath: string,
    private readonly port: number,
    private readonly host: string | undefined,
    /** Resolves when the game can answer players (flying-squid's plugins are loaded), or soon enough anyway. */
    private readonly ready: Promise<unknown>,
    windowMs = HANDOVER_WINDOW_MS,
  ) {
    this.until = Date.now() + windowMs;
    socketServer.once('listening', () => {
      this.listening = true;
      this.signal('listening');
    });
  }

  /**
   * Whether `err` is the lobby still holding the port within the window: the bind is then tried
   * again shortly and the error is not the game's. Any other error, or one after the window, is.
   */
  absorbs(err: NodeJS.ErrnoException): boolean {
    if (this.listening || err.code !== 'EADDRINUSE' || err.syscall !== 'listen' || Date.now() > this.until) return false;
    // Asked for only once the game can answer: bound while its plugins still load, it would hold
    // pings unanswered for a second or more (measured) that the lobby answers at once.
    void this.ready.then(() => {
      this.signal('waiting for the lobby to let go of the port');
      setTimeout(() => this.socketServer.listen(this.port, this.host), RETRY_MS);
    });
    return true;
  }

  private signal(state: string): void {
    if (this.signalled) return;
    this.signalled = true;
    writeFileSync(this.signalPath, `${state}\n`);
  }
}
