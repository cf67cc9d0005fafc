/** An error whose message a client may read, whatever its status; anything else becomes a plain 500. */
export class HttpError extends Error {
  readonly expose = true;
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 431 | 501 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
