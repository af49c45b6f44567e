/**
 * Structured JSON logs on stdout with the seed's fields (timestamp, level, message, service, request_id).
 * The request id lives in an AsyncLocalStorage context so it follows a request into the tasks and events it starts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

export interface RequestContext {
  requestId: string;
}

const contextStorage = new AsyncLocalStorage<RequestContext>();

/** Run `fn` with a request id in context (a new one when none is given). */
export function withRequestContext<T>(requestId: string | undefined, fn: () => T): T {
  return contextStorage.run({ requestId: requestId ?? randomUUID() }, fn);
}

export function currentRequestId(): string | undefined {
  return contextStorage.getStore()?.requestId;
}

export interface LoggerOptions {
  service: string;
  level: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      messageKey: 'message',
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label.toUpperCase() }) },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { request_id: requestId } : {};
      },
      redact: {
        paths: [
          'password',
          '*.password',
          'secret',
          '*.secret',
          'token',
          '*.token',
          'apiKey',
          '*.apiKey',
          'headers.authorization',
          'headers["x-kkiapay-secret"]',
          'req.headers.authorization',
        ],
        censor: '***',
      },
    },
    options.destination,
  );
}
