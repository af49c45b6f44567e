/**
 * Typed errors with a stable machine-readable code. HTTP turns them into application/problem+json;
 * start-up turns them into one clear line naming what to fix.
 */

export interface RgzErrorOptions {
  status?: number;
  detail?: string;
  /** Extra machine-readable fields copied into the problem body. */
  fields?: Record<string, unknown>;
  cause?: unknown;
}

export class RgzError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: RgzErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RgzError';
    this.code = code;
    this.status = options.status ?? 500;
    this.fields = options.fields;
  }
}

/** A configuration problem found at start-up; `path` is the full key path, e.g. `plugins.sms-letexto.config.apiKey`. */
export class ConfigError extends RgzError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('config_invalid', `${path}: ${message}`, { fields: { path } });
    this.name = 'ConfigError';
    this.path = path;
  }
}

/** Errors that map to HTTP 4xx. Use these from route handlers: they never leak a stack trace. */
export const httpErrors = {
  badRequest: (code: string, message: string, fields?: Record<string, unknown>) => new RgzError(code, message, { status: 400, fields }),
  unauthorized: (message = 'Authentication required') => new RgzError('unauthorized', message, { status: 401 }),
  forbidden: (message = 'Not allowed for this principal') => new RgzError('forbidden', message, { status: 403 }),
  notFound: (code = 'not_found', message = 'Not found') => new RgzError(code, message, { status: 404 }),
  conflict: (code: string, message: string, fields?: Record<string, unknown>) => new RgzError(code, message, { status: 409, fields }),
  unprocessable: (code: string, message: string, fields?: Record<string, unknown>) => new RgzError(code, message, { status: 422, fields }),
  tooManyRequests: (code: string, message: string, retryAfterSeconds?: number) =>
    new RgzError(code, message, { status: 429, fields: retryAfterSeconds ? { retry_after: retryAfterSeconds } : undefined }),
  unavailable: (code: string, message: string) => new RgzError(code, message, { status: 503 }),
};
