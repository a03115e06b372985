/** The use case with in-memory fakes: outcomes, what reaches the stores, and which failures are rethrown. */
import { createHash, randomUUID } from 'node:crypto';
import {
  TelemetryDecryptError,
  type TelemetryEnvelope,
  TelemetryKeyUnavailableError,
} from '@cv/crypto/telemetry';
import { describe, expect, it } from 'vitest';
import {
  type CommandResultStore,
  type Decryptor,
  type IngestDeps,
  ingestMessage,
  type TelemetryItem,
  type TelemetryStore,
} from '../src/ingest.js';

const THING = '1HGCM82633A004352_gw-01';
const NOW = new Date('2026-11-25T10:00:00.000Z');

class MemoryTelemetry implements TelemetryStore {
  readonly rows = new Map<string, TelemetryItem>();
  failWith: Error | undefined;
  async put(item: TelemetryItem) {
    if (this.failWith) throw this.failWith;
    const key = `${item.thingName}|${item.sk}`;
    if (this.rows.has(key)) return 'duplicate' as const;
    this.rows.set(key, item);
    return 'stored' as const;
  }
}

class MemoryCommands implements CommandResultStore {
  readonly rows = new Map<
    string,
    { thingName: string; status: string; result?: unknown; resultMessageId?: string }
  >();
  calls = 0;
  async applyResult(input: Parameters<CommandResultStore['applyResult']>[0]) {
    this.calls += 1;
    const row = this.rows.get(input.commandId);
    if (!row || row.thingName !== input.thingName) return 'not-applicable' as const;
    if (row.status !== 'PENDING') {
      return row.resultMessageId === input.esdkMessageId
        ? ('already-applied' as const)
        : ('not-applicable' as const);
    }
    this.rows.set(input.commandId, {
      ...row,
      status: input.result.status,
      result: input.result,
      resultMessageId: input.esdkMessageId,
    });
    return 'applied' as const;
  }
}

/** The fake's "Encryption SDK message id": a digest of the ciphertext (one message, one id). */
const idOf = (esdk: string) => createHash('sha256').update(esdk).digest('hex');

/**
 * A decryptor fake: the "ciphertext" is base64 JSON of `{ thing, kind, messageId, sentAt, data }`; it enforces the
 * context and the envelope's claims like the real one.
 */
const fakeDecryptor = (failure?: Error): Decryptor & { calls: number } => {
  const d = {
    calls: 0,
    async decrypt(envelope: TelemetryEnvelope, expected: { thing: string; kind: string }) {
      d.calls += 1;
      if (failure) throw failure;
      const inner = JSON.parse(Buffer.from(envelope.esdk, 'base64').toString('utf8'));
      if (inner.thing !== expected.thing || inner.kind !== expected.kind) {
        throw new TelemetryDecryptError('context-mismatch', 'test');
      }
      if (inner.messageId !== envelope.messageId || inner.sentAt !== envelope.sentAt) {
        throw new TelemetryDecryptError('envelope-mismatch', 'test');
      }
      return { data: inner.data, esdkMessageId: idOf(envelope.esdk) };
    },
  };
  return d;
};

function event(
  data: unknown,
  opts: { thing?: string; kind?: string; topicKind?: string; topicThing?: string } = {},
) {
  const kind = opts.kind ?? 'telemetry';
  const messageId = randomUUID();
  const sentAt = '2026-11-25T11:59:58.250+02:00';
  return {
    v: 2,
    messageId,
    sentAt,
    esdk: Buffer.from(JSON.stringify({ thing: opts.thing ?? THING, kind, messageId, sentAt, data })).toString(
      'base64',
    ),
    thingName: opts.topicThing ?? opts.thing ?? THING,
    topicKind: opts.topicKind ?? (kind === 'telemetry' ? 'telemetry' : 'command-results'),
  };
}

function setup(decryptor = fakeDecryptor()) {
  const telemetry = new MemoryTelemetry();
  const commands = new MemoryCommands();
  const deps: IngestDeps = {
    decryptor,
    telemetry,
    commands,
    now: () => NOW,
    ttlDays: 7,
    maxPayloadBytes: 4096,
  };
  return { deps, telemetry, commands, decryptor };
}

const reading = { location: { lat: 52.52, lon: 13.405 } };

describe('ingestMessage', () => {
  it('stores a reading keyed by UTC sentAt and the Encryption SDK message id, with vin, ecuId and ttl', async () => {
    const { deps, telemetry } = setup();
    const e = event(reading);

    const outcome = await ingestMessage(e, deps);

    expect(outcome).toMatchObject({ result: 'stored', kind: 'telemetry', messageId: e.messageId });
    expect([...telemetry.rows.values()]).toEqual([
      {
        thingName: THING,
        sk: `2026-11-25T09:59:58.250Z#${idOf(e.esdk)}`,
        vin: '1HGCM82633A004352',
        ecuId: 'gw-01',
        kind: 'telemetry',
        messageId: e.messageId,
        esdkMessageId: idOf(e.esdk),
        sentAt: '2026-11-25T09:59:58.250Z',
        receivedAt: NOW.toISOString(),
        data: reading,
        ttl: NOW.getTime() / 1000 + 7 * 86_400,
      },
    ]);
  });

  it('accepts the same message as JSON text (SQS body)', async () => {
    const { deps, telemetry } = setup();

    expect((await ingestMessage(JSON.stringify(event(reading)), deps)).result).toBe('stored');
    expect(telemetry.rows.size).toBe(1);
  });

  it('reports a redelivery as duplicate and still tries the command update', async () => {
    const { deps, telemetry, commands } = setup();
    const commandId = randomUUID();
    commands.rows.set(commandId, { thingName: THING, status: 'PENDING' });
    const e = event({ commandId, status: 'SUCCEEDED' }, { kind: 'command-result' });
    telemetry.failWith = undefined;

    const first = await ingestMessage(e, deps);
    const second = await ingestMessage(e, deps);

    expect(first).toMatchObject({ result: 'stored', commandUpdate: 'applied' });
    expect(second).toMatchObject({ result: 'duplicate', commandUpdate: 'already-applied' });
    expect(commands.calls).toBe(2);
    expect(commands.rows.get(commandId)?.status).toBe('SUCCEEDED');
  });

  it.each([
    ['not JSON', 'not json{', 'malformed'],
    ['an array', [1, 2], 'malformed'],
    ['null', null, 'malformed'],
    ['too large', { ...event(reading), esdk: 'A'.repeat(5000) }, 'oversize'],
    ['a bad thing name', { ...event(reading), thingName: 'x' }, 'bad-thing-name'],
    ['no topicKind', { ...event(reading), topicKind: undefined }, 'unknown-kind'],
    ['topicKind __proto__', { ...event(reading), topicKind: '__proto__' }, 'unknown-kind'],
    ['an unsupported version', { ...event(reading), v: 3 }, 'unsupported-version'],
    ['the version 1 envelope', { ...event(reading), v: 1 }, 'unsupported-version'],
    [
      'a messageId other than the sealed one',
      { ...event(reading), messageId: randomUUID() },
      'envelope-mismatch',
    ],
    [
      'a sentAt other than the sealed one',
      { ...event(reading), sentAt: '2026-11-25T11:59:59.250+02:00' },
      'envelope-mismatch',
    ],
    [
      'another thing in the context',
      event(reading, { thing: THING, topicThing: '2FTRX18W1XCA01234_tcu-7' }),
      'context-mismatch',
    ],
    [
      'a schema violation',
      event({ status: { speedKmh: -1, odometerKm: 1, doorsLocked: true, ignition: 'ON' } }),
      'schema',
    ],
    ['an unknown field in the body', event({ location: { lat: 1, lon: 1, secret: 'x' } }), 'schema'],
    ['an empty reading', event({}), 'schema'],
    [
      'a result for a non-v4 id',
      event({ commandId: 'abc', status: 'SUCCEEDED' }, { kind: 'command-result' }),
      'schema',
    ],
  ])('drops %s and stores nothing', async (_label, message, reason) => {
    const { deps, telemetry, commands } = setup();

    const outcome = await ingestMessage(message, deps);

    expect(outcome).toMatchObject({ result: 'dropped', reason });
    expect(telemetry.rows.size).toBe(0);
    expect(commands.calls).toBe(0);
  });

  it('drops a permanent decrypt rejection with its reason', async () => {
    const { deps, telemetry } = setup(fakeDecryptor(new TelemetryDecryptError('tampered', 'test')));

    expect(await ingestMessage(event(reading), deps)).toMatchObject({
      result: 'dropped',
      reason: 'tampered',
    });
    expect(telemetry.rows.size).toBe(0);
  });

  it('rethrows a transient key failure (retry) and stores nothing', async () => {
    const { deps, telemetry } = setup(fakeDecryptor(new TelemetryKeyUnavailableError('throttled')));

    await expect(ingestMessage(event(reading), deps)).rejects.toBeInstanceOf(TelemetryKeyUnavailableError);
    expect(telemetry.rows.size).toBe(0);
  });

  it('rethrows a DynamoDB failure (retry) and applies no command result', async () => {
    const { deps, telemetry, commands } = setup();
    telemetry.failWith = Object.assign(new Error('Throughput exceeds the current capacity'), {
      name: 'ProvisionedThroughputExceededException',
    });

    await expect(
      ingestMessage(event({ commandId: randomUUID(), status: 'FAILED' }, { kind: 'command-result' }), deps),
    ).rejects.toThrow('Throughput');
    expect(commands.calls).toBe(0);
  });

  it('does not decrypt before the envelope, thing name and kind are valid', async () => {
    const { deps, decryptor } = setup();

    await ingestMessage({ ...event(reading), topicKind: 'x' }, deps);
    await ingestMessage({ ...event(reading), esdk: '***' }, deps);

    expect(decryptor.calls).toBe(0);
  });
});
