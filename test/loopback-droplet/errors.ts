/**
 * Anything a loopback droplet could not do (boot, power off, snapshot, restore, destroy). The message
 * names the droplet and says where to look; `cause` keeps what failed underneath.
 */
export class LoopbackDropletError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoopbackDropletError';
  }
}
