import { OodError } from '../controller/errors.js';

/** A step of `ood image build` that failed; the message says what, where the log is, and what was left. */
export class ImageBuildError extends OodError {
  readonly retryable = false;
}
