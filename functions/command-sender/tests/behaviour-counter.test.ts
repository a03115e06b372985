import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { dynamoCommandCounter } from '../src/adapters/behaviour-counter.js';

const ddb = mockClient(DynamoDBClient);
afterEach(() => ddb.reset());

describe('dynamoCommandCounter', () => {
  it('ADDs received 1 to the ECU hour of the shared counter item, nothing else', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const counter = dynamoCommandCounter(
      new DynamoDBClient({ region: 'eu-west-1' }),
      'cv-security-dev-behaviour',
      () => {
        throw new Error('unexpected');
      },
    );
    await counter.received('1HGCM82633A004352_gw-01', Date.UTC(2026, 10, 25, 9, 59, 59));
    const [call] = ddb.commandCalls(UpdateItemCommand);
    expect(call?.args[0].input).toEqual({
      TableName: 'cv-security-dev-behaviour',
      Key: {
        thingName: { S: '1HGCM82633A004352_gw-01' },
        sk: { S: `b#${String(Date.UTC(2026, 10, 25, 9) / 1000).padStart(12, '0')}` },
      },
      UpdateExpression: 'SET #ttl = :ttl ADD #received :received',
      ExpressionAttributeNames: { '#ttl': 'ttl', '#received': 'received' },
      ExpressionAttributeValues: {
        ':ttl': { N: String(Date.UTC(2026, 10, 25, 10) / 1000 + 7 * 86_400) },
        ':received': { N: '1' },
      },
    });
  });

  it('a failed write is reported and swallowed: the command was sent', async () => {
    ddb.on(UpdateItemCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    const errors: unknown[] = [];
    const counter = dynamoCommandCounter(new DynamoDBClient({ region: 'eu-west-1' }), 't-behaviour', (e) =>
      errors.push(e),
    );
    await expect(counter.received('A_1', 0)).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});
