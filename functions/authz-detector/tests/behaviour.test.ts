import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { dynamoFailureCounter } from '../src/adapters/behaviour-counters.js';
import { failureCounts } from '../src/behaviour.js';
import type { AuthorizationFailure } from '../src/logs.js';
import { CERT, THING } from './helpers.js';

const T = Date.UTC(2026, 10, 25, 8, 45);
const HOUR = Date.UTC(2026, 10, 25, 8) / 1000;
const failure = (i: number, over: Partial<AuthorizationFailure> = {}): AuthorizationFailure => ({
  eventId: `e${i}`,
  certificateId: CERT,
  clientId: THING,
  eventType: 'Subscribe',
  at: T + i * 1000,
  ...over,
});

describe('authorization failures counted for behaviour-detector', () => {
  it('Publish-In and Subscribe failures per ECU (client id) and hour, each log event once; Connect failures (claimed id) never', () => {
    expect(
      failureCounts([
        failure(1),
        failure(2, { eventType: 'Publish-In' }),
        failure(2, { eventType: 'Publish-In' }),
        failure(3, { eventType: 'Connect', clientId: 'VICTIM00000000000_gw-1' }),
        failure(4, { clientId: undefined }),
        failure(5, { clientId: 'bad/name' }),
        failure(6, { at: T + 3_600_000 }),
      ]),
    ).toEqual([
      { thingName: THING, start: HOUR, authzFailures: 2 },
      { thingName: THING, start: HOUR + 3600, authzFailures: 1 },
    ]);
  });

  const ddb = mockClient(DynamoDBClient);
  afterEach(() => ddb.reset());

  it('writes one ADD per ECU and hour; a failed write is reported, not thrown (no retry, no double count)', async () => {
    ddb.on(UpdateItemCommand).rejectsOnce(new Error('throttled')).resolves({});
    const errors: unknown[] = [];
    const count = dynamoFailureCounter(
      new DynamoDBClient({ region: 'eu-west-1' }),
      'cv-security-dev-behaviour',
      (e) => errors.push(e),
    );
    await count(failureCounts([failure(1), failure(2, { at: T + 3_600_000 })]));
    expect(errors).toHaveLength(1);
    const inputs = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[1]).toMatchObject({
      TableName: 'cv-security-dev-behaviour',
      UpdateExpression: 'SET #ttl = :ttl ADD #authzFailures :authzFailures',
      ExpressionAttributeValues: { ':authzFailures': { N: '1' } },
    });
  });
});
