import { afterEach, describe, expect, it } from 'vitest';
import { createRedisKv } from '../kv/redis-kv.js';
import { createLogger, currentRequestId, withRequestContext } from '../logging/logger.js';
import { BACKENDS, createTestKv, TEST_REDIS_URL, type TestKv, waitFor } from '../testing/index.js';
import { defineEvent, KvEventBus } from './event-bus.js';

const log = createLogger({ service: 'test', level: 'silent' });
const Paid = defineEvent<{ transactionId: string; amount: number }>('payment.succeeded');
const Other = defineEvent<{ n: number }>('test.other');

describe.each(BACKENDS)('event bus, one replica (%s)', (backend) => {
  let t: TestKv | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('delivers a published event to every handler of that event only, and off() stops delivery', async () => {
    t = await createTestKv(backend);
    const bus = new KvEventBus(t.kv, log);
    await bus.start();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const other: unknown[] = [];
    const offA = bus.on(Paid, (p) => {
      a.push(p);
    });
    bus.on(Paid, async (p) => {
      b.push(p);
    });
    bus.on(Other, (p) => {
      other.push(p);
    });
    await bus.publish(Paid, { transactionId: 'tx-1', amount: 1000 });
    await waitFor(() => a.length === 1 && b.length === 1, 2_000);
    expect(a).toEqual([{ transactionId: 'tx-1', amount: 1000 }]);
    expect(b).toEqual(a);
    expect(other).toEqual([]);

    offA();
    await bus.publish(Paid, { transactionId: 'tx-2', amount: 5000 });
    await waitFor(() => b.length === 2, 2_000);
    expect(a).toHaveLength(1);
    await bus.stop();
  });

  it('a failing handler does not stop the others and does not reject publish', async () => {
    t = await createTestKv(backend);
    const bus = new KvEventBus(t.kv, log);
    await bus.start();
    const got: number[] = [];
    bus.on(Other, () => {
      throw new Error('sync failure');
    });
    bus.on(Other, async () => {
      throw new Error('async failure');
    });
    bus.on(Other, (p) => {
      got.push(p.n);
    });
    await expect(bus.publish(Other, { n: 1 })).resolves.toBeUndefined();
    await waitFor(() => got.length === 1, 2_000);
    await bus.stop();
  });

  it('handlers run with the publisher request id', async () => {
    t = await createTestKv(backend);
    const bus = new KvEventBus(t.kv, log);
    await bus.start();
    const ids: Array<string | undefined> = [];
    bus.on(Other, () => {
      ids.push(currentRequestId());
    });
    await withRequestContext('req-evt-1', () => bus.publish(Other, { n: 1 }));
    await waitFor(() => ids.length === 1, 2_000);
    expect(ids).toEqual(['req-evt-1']);
    await bus.stop();
  });
});

describe('event bus across replicas (real Redis)', () => {
  let t: TestKv | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await t?.close();
    t = undefined;
  });

  /** Two replicas: two buses over two Redis connections sharing one key prefix. */
  async function twoReplicas() {
    t = await createTestKv('real');
    const kv2 = await createRedisKv({ url: TEST_REDIS_URL, keyPrefix: t.prefix });
    closers.push(() => kv2.close());
    const one = new KvEventBus(t.kv, log);
    const two = new KvEventBus(kv2, log);
    await one.start();
    await two.start();
    closers.push(
      () => one.stop(),
      () => two.stop(),
    );
    return { one, two };
  }

  it('delivers to the other replica once and never echoes to the origin', async () => {
    const { one, two } = await twoReplicas();
    const onOne: Array<{ transactionId: string }> = [];
    const onTwo: Array<{ transactionId: string }> = [];
    const ids: Array<string | undefined> = [];
    one.on(Paid, (p) => {
      onOne.push(p);
    });
    two.on(Paid, (p) => {
      onTwo.push(p);
      ids.push(currentRequestId());
    });
    const marks = { one: 0, two: 0 };
    one.on(Other, () => {
      marks.one++;
    });
    two.on(Other, () => {
      marks.two++;
    });

    await withRequestContext('req-pay-7', () => one.publish(Paid, { transactionId: 'tx-7', amount: 1000 }));
    // The origin ran its handler at once, in process.
    expect(onOne).toEqual([{ transactionId: 'tx-7', amount: 1000 }]);
    await waitFor(() => onTwo.length === 1, 3_000);
    expect(onTwo).toEqual([{ transactionId: 'tx-7', amount: 1000 }]);
    expect(ids).toEqual(['req-pay-7']);

    // Barrier: replica two publishes after; once one hears it, one's own echo (published earlier on the same
    // channel) has been received and dropped.
    await two.publish(Other, { n: 1 });
    await waitFor(() => marks.one === 1, 3_000);
    expect(marks.two).toBe(1);
    expect(onOne).toHaveLength(1);
    expect(onTwo).toHaveLength(1);

    // And the other way round.
    await two.publish(Paid, { transactionId: 'tx-8', amount: 5000 });
    await waitFor(() => onOne.length === 2, 3_000);
    await one.publish(Other, { n: 2 });
    await waitFor(() => marks.two === 2, 3_000);
    expect(marks).toEqual({ one: 2, two: 2 });
    expect(onOne.map((p) => p.transactionId)).toEqual(['tx-7', 'tx-8']);
    expect(onTwo.map((p) => p.transactionId)).toEqual(['tx-7', 'tx-8']);
  });

  it('a stopped replica no longer receives, and garbage on the channel is ignored', async () => {
    const { one, two } = await twoReplicas();
    const onTwo: number[] = [];
    const onOne: number[] = [];
    two.on(Other, (p) => {
      onTwo.push(p.n);
    });
    one.on(Other, (p) => {
      onOne.push(p.n);
    });
    // Not JSON, then JSON that is not an envelope for a known event.
    await t?.kv.publish('rgz:events', '{not json');
    await t?.kv.publish('rgz:events', JSON.stringify({ name: 'nobody.listens', payload: 1, origin: 'x' }));
    await one.publish(Other, { n: 1 });
    await waitFor(() => onTwo.length === 1, 3_000);
    expect(onTwo).toEqual([1]);

    await two.stop();
    await one.publish(Other, { n: 2 });
    // A third bus on the same channel proves the message went out.
    const kv3 = await createRedisKv({ url: TEST_REDIS_URL, keyPrefix: t?.prefix });
    closers.push(() => kv3.close());
    const three = new KvEventBus(kv3, log);
    const onThree: number[] = [];
    three.on(Other, (p) => {
      onThree.push(p.n);
    });
    await three.start();
    closers.push(() => three.stop());
    await one.publish(Other, { n: 3 });
    await waitFor(() => onThree.length === 1, 3_000);
    expect(onThree).toEqual([3]);
    expect(onTwo).toEqual([1]);
    expect(onOne).toEqual([1, 2, 3]);
  });
});
