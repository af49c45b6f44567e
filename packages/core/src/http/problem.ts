/**
 * Errors as application/problem+json (RFC 9457) with a stable `code`, for every failure a client can cause.
 * Unknown errors become a 500 with code `internal_error` and the request id, never a stack trace.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { RgzError } from '../errors/rgz-error.js';
import type { AppEnv } from './app-env.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  request_id?: string;
  [field: string]: unknown;
}

export function problemResponse(c: Context, problem: Problem): Response {
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, { 'content-type': 'application/problem+json' });
}

function problem(status: number, code: string, title: string, requestId: string | undefined, extra: Record<string, unknown> = {}): Problem {
  return { type: `https://rgz.dev/problems/${code}`, title, status, code, ...(requestId ? { request_id: requestId } : {}), ...extra };
}

export function validationProblem(c: Context<AppEnv>, error: ZodError, where: string): Response {
  const issues = error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message, code: i.code }));
  return problemResponse(c, problem(400, 'validation_failed', `Invalid ${where}: ${issues[0]?.path}: ${issues[0]?.message}`, c.get('requestId'), { issues }));
}

export function onError(err: Error, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId');
  if (err instanceof RgzError && err.status < 500) {
    if (err.status === 429 && typeof err.fields?.retry_after === 'number') c.header('retry-after', String(err.fields.retry_after));
    return problemResponse(c, problem(err.status, err.code, err.message, requestId, err.fields));
  }
  if (err instanceof ZodError) return validationProblem(c, err, 'body');
  if (err instanceof HTTPException && err.status < 500) {
    // hono raises these for malformed JSON bodies and body limits.
    const code = err.status === 413 ? 'payload_too_large' : err.status === 400 ? 'malformed_request' : `http_${err.status}`;
    return problemResponse(c, problem(err.status, code, err.message || 'Bad request', requestId));
  }
  const log = c.get('log');
  log?.error({ err }, 'unhandled error');
  if (err instanceof RgzError) return problemResponse(c, problem(err.status, err.code, err.message, requestId));
  return problemResponse(c, problem(500, 'internal_error', 'Internal error; quote the request id when reporting it', requestId));
}

export function notFound(c: Context<AppEnv>): Response {
  return problemResponse(c, problem(404, 'route_not_found', `No route ${c.req.method} ${c.req.path}`, c.get('requestId')));
}
