/**
 * The DynamoDB adapters against a real DynamoDB engine (the local cloud's): ADD counters from two writers, size
 * classes, disconnect reasons, source-address sets, key-range reads, optimistic versions, the conditional raise,
 * the registry lookup.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LocalCloud } from '@cv/local-cloud';
import { bucketStart, counterUpdate, sizeClass } from '@cv/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCounterStore } from '../src/adapters/counter-store.js';
import { DynamoFindingLedger } from '../src/adapters/ledger.js';
import { RegistryRoles } from '../src/adapters/registry.js';
import { DynamoStateStore } from '../src/adapters/state.js';
import type { RaisedFinding } from '../src/ports.js';

const TABLE = 'cv-security-local-behaviour';
const REGISTRY = 'cv-security-local-ecu-registry';
const THING = 'WVWZZZ1JZXW000001_tcu-1';
const T0 = Date.UTC(2026, 10, 2, 8, 15);
let cloud: LocalCloud;
let ddb: DynamoDBClient;

beforeAll(async () => {
  cloud = await LocalCloud.start({ registerOperationalCa: false });
  ddb = new DynamoDBClient(cloud.clientConfig());
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'thingName', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'thingName', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: REGISTRY,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'ecuId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'ecuId', KeyType: 'HASH' }],
    }),
  );
});
afterAll(async () => {
  await cloud?.stop();
});

describe('counters', () => {
  it('two writers ADD into one item per ECU and bucket; max size as the largest size class; reasons and addresses kept', async () => {
    const start = bucketStart(T0);
    const store = new DynamoCounterStore(ddb, TABLE);
    // telemetry-ingest's batch and command-sender's command, through the shared item format.
    await ddb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        ...counterUpdate({ thingName: THING, start, sent: 40, bytes: 12_000, maxBytes: 1_000 }),
      }),
    );
    await ddb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        ...counterUpdate({ thingName: THING, start, sent: 2, bytes: 90_000, maxBytes: 88_000, received: 1 }),
      }),
    );
    await store.add([
      {
        thingName: THING,
        start,
        add: { connects: 2, disconnects: 1 },
        disconnectReasons: { DUPLICATE_CLIENTID: 1, 'NOT A REASON': 2 },
        sourceIps: ['100.64.0.1', '198.51.100.9'],
      },
    ]);
    await store.add([{ thingName: THING, start, add: { connects: 1 }, sourceIps: ['100.64.0.1'] }]);

    const [bucket] = await store.between(THING, start - 3600, start, 10);
    expect(bucket).toEqual({
      thingName: THING,
      start,
      counts: {
        sent: 42,
        bytes: 102_000,
        maxBytes: sizeClass(88_000),
        received: 1,
        connects: 3,
        disconnects: 1,
        sourceIps: 2,
        authzFailures: 0,
      },
      disconnectReasons: { DUPLICATE_CLIENTID: 1, UNKNOWN: 2 },
    });
    // The size class is an upper bound within 19%.
    expect(bucket?.counts.maxBytes).toBeGreaterThanOrEqual(88_000);
    expect(bucket?.counts.maxBytes).toBeLessThanOrEqual(88_000 * 1.19);
    expect(await store.between(THING, start + 3600, start + 7200, 10)).toEqual([]);
  });
});

describe('state and ledger', () => {
  it('a write naming a stale version is refused and changes nothing', async () => {
    const state = new DynamoStateStore(ddb, TABLE, () => T0);
    expect(await state.savePresence(THING, { connects: [], takeovers: [1] }, undefined)).toBe(true);
    expect(await state.savePresence(THING, { connects: [], takeovers: [2] }, undefined)).toBe(false);
    const read = await state.presence(THING);
    expect(read).toEqual({ value: { connects: [], takeovers: [1] }, version: 1 });
    expect(await state.savePresence(THING, { connects: [], takeovers: [3] }, 1)).toBe(true);
    expect(await state.savePresence(THING, { connects: [], takeovers: [4] }, 1)).toBe(false);
    expect((await state.presence(THING))?.value).toEqual({ connects: [], takeovers: [3] });
  });

  it('of two raises from the same previous one, one wins; marking imported needs the same finding id', async () => {
    const ledger = new DynamoFindingLedger(ddb, TABLE);
    const raised = (id: string): RaisedFinding => ({
      findingId: id,
      raisedAt: T0,
      imported: false,
      finding: {
        behaviour: 'RECONNECT_LOOP',
        thingName: THING,
        role: 'telematics',
        metric: 'connects',
        observed: 12,
        threshold: 12,
        baseline: 'x',
        sourceIps: [],
        firstObservedAt: T0,
        lastObservedAt: T0,
      },
    });
    expect(await ledger.claimRaise(raised('a'), undefined)).toBe(true);
    expect(await ledger.claimRaise(raised('b'), undefined)).toBe(false);
    await ledger.markImported(THING, 'RECONNECT_LOOP', 'b');
    expect(await ledger.lastRaised(THING, 'RECONNECT_LOOP')).toMatchObject({
      findingId: 'a',
      imported: false,
    });
    await ledger.markImported(THING, 'RECONNECT_LOOP', 'a');
    expect(await ledger.lastRaised(THING, 'RECONNECT_LOOP')).toMatchObject({
      findingId: 'a',
      imported: true,
      finding: { observed: 12 },
    });
  });
});

describe('registry roles', () => {
  it('the role of the registry row that names this thing; a row naming another thing or an unknown role -> undefined', async () => {
    await ddb.send(
      new PutItemCommand({
        TableName: REGISTRY,
        Item: {
          ecuId: { S: 'tcu-1' },
          vin: { S: 'WVWZZZ1JZXW000001' },
          thingName: { S: THING },
          role: { S: 'telematics' },
        },
      }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: REGISTRY,
        Item: {
          ecuId: { S: 'gw-9' },
          vin: { S: 'WVWZZZ1JZXW000002' },
          thingName: { S: 'WVWZZZ1JZXW000002_gw-9' },
          role: { S: 'root' },
        },
      }),
    );
    const roles = new RegistryRoles(ddb, REGISTRY);
    expect(await roles.roleOf(THING)).toBe('telematics');
    expect(await roles.roleOf('OTHERVIN000000000_tcu-1')).toBeUndefined();
    expect(await roles.roleOf('WVWZZZ1JZXW000002_gw-9')).toBeUndefined();
    expect(await roles.roleOf('no-underscore')).toBeUndefined();
  });
});
