/**
 * An error the fake answers with, in DigitalOcean's shape: `{"id", "message", "request_id"}`. The ids are
 * the ones the real API uses (`not_found`, `unprocessable_entity`, `bad_request`, `unauthorized`, ...).
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (): ApiError => new ApiError(404, 'not_found', 'The resource you requested could not be found.');

export const unprocessable = (message: string): ApiError => new ApiError(422, 'unprocessable_entity', message);

export const badRequest = (message: string): ApiError => new ApiError(400, 'bad_request', message);
