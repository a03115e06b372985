/**
 * The broker's subscription index (mqtt-subscriptions.ts) against the definition it replaces:
 * testing every subscription of every client with `topicMatches`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SubscriptionIndex, topicMatches, validTopicFilter } from '../src/index.js';

/** The brute-force scan the broker used to do for each publish. */
function scan(model: Map<string, Map<string, 0 | 1>>, topic: string): Map<string, 0 | 1> {
  const out = new Map<string, 0 | 1>();
  for (const [subscriber, filters] of model) {
    let qos: 0 | 1 | undefined;
    for (const [filter, granted] of filters) {
      if (topicMatches(filter, topic)) qos = Math.max(qos ?? 0, granted) as 0 | 1;
    }
    if (qos !== undefined) out.set(subscriber, qos);
  }
  return out;
}

const sorted = (m: Map<string, 0 | 1>) => [...m].sort(([a], [b]) => a.localeCompare(b));

describe('SubscriptionIndex', () => {
  it('gives a subscriber with overlapping exact and wildcard filters the message once, at the highest QoS granted', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a', 'ecus/x/commands', 0);
    index.add('a', 'ecus/+/commands', 1);
    index.add('a', 'ecus/#', 0);
    index.add('b', 'ecus/x/commands', 0);
    expect(sorted(index.match('ecus/x/commands'))).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
  });

  it('keeps the other filter when one of two overlapping filters is unsubscribed', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a', 'ecus/x/commands', 1);
    index.add('a', 'ecus/+/commands', 0);
    index.remove('a', 'ecus/x/commands');
    expect(sorted(index.match('ecus/x/commands'))).toEqual([['a', 0]]);
    index.remove('a', 'ecus/+/commands');
    expect(index.match('ecus/x/commands').size).toBe(0);
    expect(index.size).toBe(0);
  });

  it('re-granting a filter replaces its QoS without counting it twice', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a', 't/1', 1);
    index.add('a', 't/1', 0);
    expect(index.size).toBe(1);
    expect(sorted(index.match('t/1'))).toEqual([['a', 0]]);
  });

  it('removing a filter never subscribed, or a prefix of one, changes nothing', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a', 'a/b/c', 1);
    index.remove('a', 'a/b');
    index.remove('b', 'a/b/c');
    index.remove('a', 'x/y');
    expect(index.size).toBe(1);
    expect(sorted(index.match('a/b/c'))).toEqual([['a', 1]]);
  });

  it('matches # and + as MQTT and AWS IoT Core do (a/# takes a/ and a/b/c, not a; + is one level, possibly empty)', () => {
    const index = new SubscriptionIndex<string>();
    index.add('hash', 'a/#', 1);
    index.add('plus', 'a/+', 1);
    index.add('all', '#', 0);
    index.add('mid', '+/b/+', 0);
    expect(sorted(index.match('a'))).toEqual([['all', 0]]);
    expect(sorted(index.match('a/'))).toEqual([
      ['all', 0],
      ['hash', 1],
      ['plus', 1],
    ]);
    expect(sorted(index.match('a/b/c'))).toEqual([
      ['all', 0],
      ['hash', 1],
      ['mid', 0],
    ]);
    expect(sorted(index.match('/b/'))).toEqual([
      ['all', 0],
      ['mid', 0],
    ]);
  });

  it('does not match $aws/... (or any $ topic) with a filter whose first level is a wildcard, only with one naming it (MQTT 4.7.2)', () => {
    const index = new SubscriptionIndex<string>();
    index.add('all', '#', 1);
    index.add('plus', '+/events/#', 1);
    index.add('named', '$aws/events/#', 0);
    index.add('inner', '$aws/+/presence/+', 1);
    expect(sorted(index.match('$aws/events/presence/connected/c1'))).toEqual([['named', 0]]);
    expect(sorted(index.match('$aws/x/presence/c1'))).toEqual([['inner', 1]]);
    expect(sorted(index.match('aws/events/presence'))).toEqual([
      ['all', 1],
      ['plus', 1],
    ]);
    expect(topicMatches('#', '$aws/events/presence')).toBe(false);
    expect(topicMatches('+/events/presence', '$aws/events/presence')).toBe(false);
    expect(topicMatches('$aws/#', '$aws/events/presence')).toBe(true);
  });

  it('drops the trie branch a removed filter leaves empty, and keeps shared prefixes', () => {
    const index = new SubscriptionIndex<string>();
    index.add('a', 'p/q/r', 0);
    index.add('b', 'p/q', 0);
    index.remove('a', 'p/q/r');
    expect(sorted(index.match('p/q'))).toEqual([['b', 0]]);
    expect(index.match('p/q/r').size).toBe(0);
    index.add('a', 'p/q/r', 1);
    expect(sorted(index.match('p/q/r'))).toEqual([['a', 1]]);
  });

  // Few, short levels so that random filters and topics collide often: empty levels, `$` levels,
  // and names that are prefixes of each other.
  const level = fc.constantFrom('a', 'ab', '', '$a', '+', '#');
  const filterArb = fc
    .array(level, { minLength: 1, maxLength: 4 })
    .map((levels) => levels.join('/'))
    .filter(validTopicFilter);
  const topicArb = fc
    .array(fc.constantFrom('a', 'ab', '', '$a'), { minLength: 1, maxLength: 5 })
    .map((levels) => levels.join('/'));
  /** A topic each filter matches (or, from a leading wildcard, a `$` topic it must not). */
  const instances = (filter: string) => [
    filter.replaceAll('+', 'a').replaceAll('#', 'ab/a'),
    filter.replaceAll('+', '$a').replaceAll('#', '$a/'),
  ];
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('add' as const),
      who: fc.integer({ min: 0, max: 2 }),
      filter: filterArb,
      qos: fc.constantFrom(0 as const, 1 as const),
    }),
    fc.record({
      kind: fc.constant('remove' as const),
      who: fc.integer({ min: 0, max: 2 }),
      filter: filterArb,
    }),
    fc.record({ kind: fc.constant('leave' as const), who: fc.integer({ min: 0, max: 2 }) }),
  );

  it('routes to exactly the subscribers, and QoS, that the brute-force scan finds, after any sequence of subscribe, unsubscribe and disconnect', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.array(topicArb, { minLength: 1, maxLength: 20 }),
        (ops, topics) => {
          const index = new SubscriptionIndex<string>();
          const model = new Map<string, Map<string, 0 | 1>>();
          for (const o of ops) {
            const who = `c${o.who}`;
            const mine = model.get(who) ?? new Map<string, 0 | 1>();
            model.set(who, mine);
            if (o.kind === 'add') {
              index.add(who, o.filter, o.qos);
              mine.set(o.filter, o.qos);
            } else if (o.kind === 'remove') {
              index.remove(who, o.filter);
              mine.delete(o.filter);
            } else {
              for (const filter of mine.keys()) index.remove(who, filter);
              mine.clear();
            }
          }
          expect(index.size).toBe([...model.values()].reduce((n, m) => n + m.size, 0));
          const filters = ops.flatMap((o) => (o.kind === 'leave' ? [] : instances(o.filter)));
          for (const topic of [...topics, ...filters])
            expect(sorted(index.match(topic))).toEqual(sorted(scan(model, topic)));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
