import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedEventError } from '../src/errors.js';
import { parseCounterStream, parsePresence } from '../src/events.js';

const CERT = 'ab'.repeat(32);
/** As AWS IoT publishes them on `$aws/events/presence/connected|disconnected/<clientId>`. */
const connectedEvent = {
  clientId: 'WVWZZZ1JZXW000001_tcu-1',
  timestamp: 1_793_606_400_123,
  eventType: 'connected',
  sessionIdentifier: '00000000-0000-0000-0000-000000000000',
  principalIdentifier: CERT,
  ipAddress: '192.0.2.10',
  versionNumber: 0,
};
const disconnectedEvent = {
  clientId: 'WVWZZZ1JZXW000001_tcu-1',
  timestamp: 1_793_606_460_000,
  eventType: 'disconnected',
  sessionIdentifier: '00000000-0000-0000-0000-000000000000',
  principalIdentifier: CERT,
  clientInitiatedDisconnect: false,
  disconnectReason: 'DUPLICATE_CLIENTID',
  versionNumber: 1,
};

describe('lifecycle events', () => {
  it('parses connected and disconnected events as AWS IoT publishes them', () => {
    expect(parsePresence([connectedEvent, disconnectedEvent])).toEqual([
      {
        thingName: connectedEvent.clientId,
        kind: 'connected',
        at: connectedEvent.timestamp,
        sessionId: connectedEvent.sessionIdentifier,
        certificateId: CERT,
        ipAddress: '192.0.2.10',
      },
      {
        thingName: connectedEvent.clientId,
        kind: 'disconnected',
        at: disconnectedEvent.timestamp,
        sessionId: disconnectedEvent.sessionIdentifier,
        certificateId: CERT,
        disconnectReason: 'DUPLICATE_CLIENTID',
      },
    ]);
    expect(parsePresence(connectedEvent)).toHaveLength(1);
  });

  it.each([
    ['a subscribe event', { ...connectedEvent, eventType: 'subscribed' }],
    ['a client id with a slash', { ...connectedEvent, clientId: 'a/b' }],
    ['a timestamp string', { ...connectedEvent, timestamp: '1793606400123' }],
    ['an address with a script', { ...connectedEvent, ipAddress: '<script>' }],
    ['a lower-case reason', { ...disconnectedEvent, disconnectReason: 'duplicate' }],
    ['an empty batch', []],
    ['null', null],
  ])('%s -> MalformedEventError', (_, event) => {
    expect(() => parsePresence(event)).toThrow(MalformedEventError);
  });

  it('any input: parsed events only, with valid thing names, or MalformedEventError (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({ ...Object.fromEntries(Object.keys(connectedEvent).map((k) => [k, fc.anything()])) }),
        ),
        (input) => {
          try {
            for (const e of parsePresence(input)) expect(e.thingName).toMatch(/^[a-zA-Z0-9:_-]{1,128}$/);
          } catch (error) {
            expect(error).toBeInstanceOf(MalformedEventError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('counter stream', () => {
  const record = (eventName: string, sk: string, extra: Record<string, unknown> = {}) => ({
    eventName,
    dynamodb: {
      SequenceNumber: `1${sk.length}`,
      NewImage: { thingName: { S: 'WVWZZZ1JZXW000001_tcu-1' }, sk: { S: sk }, sent: { N: '5' }, ...extra },
    },
  });

  it('counter items only: state items, removals and foreign keys are skipped; INSERT marks a new bucket', () => {
    const out = parseCounterStream({
      Records: [
        record('INSERT', 'b#001793606400'),
        record('MODIFY', 'b#001793606400'),
        record('MODIFY', 'baseline'),
        record('REMOVE', 'b#001793606400'),
        record('INSERT', 'b#1'),
      ],
    });
    expect(out.map((u) => [u.isNew, u.bucket.start, u.bucket.counts.sent])).toEqual([
      [true, 1_793_606_400, 5],
      [false, 1_793_606_400, 5],
    ]);
  });

  it('negative or non-numeric counters read as 0; a stream batch of another shape -> MalformedEventError', () => {
    const [u] = parseCounterStream({
      Records: [record('INSERT', 'b#001793606400', { sent: { N: '-3' }, bytes: { N: 'x' } })],
    });
    expect(u?.bucket.counts).toMatchObject({ sent: 0, bytes: 0 });
    expect(() => parseCounterStream({ Records: [{ eventName: 'INSERT' }] })).toThrow(MalformedEventError);
    expect(() => parseCounterStream('x')).toThrow(MalformedEventError);
  });
});
