/** An error whose message a client may read, whatever its status; anything else becomes a plain 500. */
export class HttpError extends Error {
  readonly expose = true;
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 429 | 431 | 501 | 502 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
