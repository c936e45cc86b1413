/**
 * An error that becomes an HTTP response: `status`, a JSON body `{ error: message, field }`, and
 * extra headers (Retry-After for 429, Allow for 405). The message names what was wrong.
 */
export class HttpError extends Error {
  readonly status: number;
  /** The request field (or header) at fault, when there is one. */
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, options: { field?: string; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.field = options.field;
    this.headers = options.headers ?? {};
  }
}

/** A 400 naming the field and what was wrong with it. */
export function badField(field: string, problem: string): HttpError {
  return new HttpError(400, `${field}: ${problem}`, { field });
}
