import { OodError } from '../controller/errors.js';

/** A step of `ood image build` that failed; the message says what, where the log is, and what was left. */
export class ImageBuildError extends OodError {
  readonly retryable = false;
}

/**
 * Which check of `ood image build` refused, before anything was created. `arguments`, `eula`,
 * `server` and `token` are the command's or the config's to fix (exit 2); `phase`, `ansible`, `pulumi` and `api`
 * are the world's state (exit 3): the same command may pass once the server is stopped, the CLIs
 * installed, or DigitalOcean reachable.
 */
export type PreflightCheck = 'arguments' | 'eula' | 'server' | 'token' | 'phase' | 'ansible' | 'pulumi' | 'api';

/** `ood image build` refused before spending anything: no stack, droplet, key or mark was made. */
export class ImagePreflightError extends OodError {
  readonly retryable = false;
  readonly exitCode: 2 | 3;
  constructor(
    readonly check: PreflightCheck,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.exitCode = check === 'phase' || check === 'ansible' || check === 'pulumi' || check === 'api' ? 3 : 2;
  }
}
