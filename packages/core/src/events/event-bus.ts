/**
 * Typed domain events between plugins. Delivered in-process at once and, through KV pub/sub, to every other
 * replica (each replica runs its own handlers once). Delivery is at-most-once and best effort: work that must
 * happen exactly once belongs in a background task, which a handler may enqueue with a dedupe key.
 */
import { randomUUID } from 'node:crypto';
import type { Kv } from '../kv/kv.js';
import { currentRequestId, type Logger, withRequestContext } from '../logging/logger.js';

export interface EventType<T> {
  readonly name: string;
  readonly __payload?: T;
}

/** Declare an event once (in core or a plugin) and share the value. */
export function defineEvent<T>(name: string): EventType<T> {
  return { name };
}

export interface EventBus {
  publish<T>(event: EventType<T>, payload: T): Promise<void>;
  on<T>(event: EventType<T>, handler: (payload: T) => void | Promise<void>): () => void;
}

const CHANNEL = 'rgz:events';

interface Envelope {
  name: string;
  payload: unknown;
  origin: string;
  requestId?: string | undefined;
}

export class KvEventBus implements EventBus {
  private readonly handlers = new Map<string, Set<(payload: unknown) => void | Promise<void>>>();
  private readonly origin = randomUUID();
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly kv: Kv,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    // With the in-process KV there is no other replica to hear from.
    if (this.kv.kind === 'memory') return;
    this.unsubscribe = await this.kv.subscribe(CHANNEL, (raw) => {
      let env: Envelope;
      try {
        env = JSON.parse(raw) as Envelope;
      } catch {
        return;
      }
      if (env.origin === this.origin) return;
      withRequestContext(env.requestId, () => this.dispatch(env.name, env.payload));
    });
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    await Promise.allSettled([...this.pending]);
  }

  on<T>(event: EventType<T>, handler: (payload: T) => void | Promise<void>): () => void {
    let set = this.handlers.get(event.name);
    if (!set) this.handlers.set(event.name, (set = new Set()));
    const h = handler as (payload: unknown) => void | Promise<void>;
    set.add(h);
    return () => set.delete(h);
  }

  async publish<T>(event: EventType<T>, payload: T): Promise<void> {
    this.dispatch(event.name, payload);
    if (this.kv.kind === 'memory') return;
    const env: Envelope = { name: event.name, payload, origin: this.origin, requestId: currentRequestId() };
    await this.kv.publish(CHANNEL, JSON.stringify(env));
  }

  private dispatch(name: string, payload: unknown): void {
    for (const handler of this.handlers.get(name) ?? []) {
      const p = (async () => {
        try {
          await handler(payload);
        } catch (err) {
          this.log.error({ err, event: name }, 'event handler failed');
        }
      })();
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    }
  }
}
