/**
 * Typed handles for the one container (tokens) and for extension points (points).
 * The type lives in the handle, so `deps: { sms: SmsSenders }` gives `setup` a typed value without string keys.
 */

export interface Token<T> {
  readonly kind: 'token';
  readonly id: string;
  readonly symbol: symbol;
  /** Phantom field: never set, only carries `T` for inference. */
  readonly __type?: T;
}

export interface Point<T> {
  readonly kind: 'point';
  readonly id: string;
  /** The key an implementation is registered under, usually the instance id from config. */
  readonly keyOf: (impl: T) => string;
  readonly __type?: T;
}

export type TokenType<K> = K extends Token<infer T> ? T : K extends Point<infer T> ? ReadonlyMap<string, T> : never;

/** Declare a typed token. `id` must be unique across the installation (prefix it with your plugin name). */
export function token<T>(id: string): Token<T> {
  return { kind: 'token', id, symbol: Symbol.for(`rgz.token.${id}`) };
}

/** Declare an extension point: many implementations, each under the key `keyOf(impl)` returns. */
export function point<T>(id: string, keyOf: (impl: T) => string): Point<T> {
  return { kind: 'point', id, keyOf };
}
