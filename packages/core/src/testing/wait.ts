/** Polling helpers for tests: wait for a condition instead of sleeping and hoping. */

export interface WaitForOptions {
  /** How often to re-check, in milliseconds (default 20). */
  intervalMs?: number;
  /** Shown in the timeout error. */
  message?: string;
}

/**
 * Resolve with the first truthy value `cond` returns (sync or async), re-checking every `intervalMs`;
 * reject after `timeoutMs` with the last error `cond` threw, if any. The loop is bounded by the deadline.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, timeoutMs = 5_000, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const interval = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms${options.message ? ` (${options.message})` : ''}${why}`, { cause: lastError });
    }
    await sleep(interval);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolve function outside, to hold a handler until the test releases it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
