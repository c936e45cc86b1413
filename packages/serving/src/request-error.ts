/** What kind of failure a request met; the label of the errors counter in /metrics. */
export type RequestErrorKind =
  'validation' | 'too-large' | 'queue-full' | 'not-found' | 'shutting-down' | 'timeout' | 'client-gone' | 'sampling' | 'unavailable';

/**
 * An error that becomes an HTTP response: `status`, a JSON body `{ error: message, field }`, and
 * extra headers (Retry-After for 429, Allow for 405). The message names what was wrong.
 */
export class RequestError extends Error {
  readonly status: number;
  /** The request field (or header) at fault, when there is one. */
  readonly field: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly kind: RequestErrorKind;

  constructor(
    status: number,
    message: string,
    options: { field?: string; headers?: Record<string, string>; kind?: RequestErrorKind; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RequestError';
    this.status = status;
    this.field = options.field;
    this.headers = options.headers ?? {};
    this.kind =
      options.kind ??
      (status === 400
        ? 'validation'
        : status === 404
          ? 'not-found'
          : status === 413
            ? 'too-large'
            : status === 429
              ? 'queue-full'
              : status === 503
                ? 'unavailable'
                : status === 504
                  ? 'timeout'
                  : 'sampling');
  }
}

/** A 400 naming the field and what was wrong with it. */
export function badField(field: string, problem: string): RequestError {
  return new RequestError(400, `${field}: ${problem}`, { field, kind: 'validation' });
}
