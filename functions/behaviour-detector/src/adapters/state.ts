import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Role } from '../model.js';
import type { StateStore, Versioned } from '../ports.js';

/** State items are kept this long after their last write (an ECU silent longer starts again from its role). */
const STATE_TTL_SECONDS = 90 * 86_400;

/**
 * {@link StateStore} on the behaviour table: the ECU's baseline (sk `baseline`) and presence (sk `presence`) under
 * its thing name, a role's baseline under pk `role#<role>`; JSON in `state`, optimistic `version`.
 */
export class DynamoStateStore implements StateStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  ecuBaseline = <T>(thingName: string) => this.read<T>(thingName, 'baseline');
  saveEcuBaseline = (thingName: string, value: unknown, previous: number | undefined) =>
    this.write(thingName, 'baseline', value, previous);
  roleBaseline = <T>(role: Role) => this.read<T>(`role#${role}`, 'baseline');
  saveRoleBaseline = (role: Role, value: unknown, previous: number | undefined) =>
    this.write(`role#${role}`, 'baseline', value, previous);
  presence = <T>(thingName: string) => this.read<T>(thingName, 'presence');
  savePresence = (thingName: string, value: unknown, previous: number | undefined) =>
    this.write(thingName, 'presence', value, previous);

  private async read<T>(pk: string, sk: string): Promise<Versioned<T> | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { thingName: { S: pk }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    const state = out.Item?.state?.S;
    const version = Number(out.Item?.version?.N);
    if (state === undefined || !Number.isInteger(version)) return undefined;
    return { value: JSON.parse(state) as T, version };
  }

  private async write(
    pk: string,
    sk: string,
    value: unknown,
    previous: number | undefined,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            thingName: { S: pk },
            sk: { S: sk },
            state: { S: JSON.stringify(value) },
            version: { N: String((previous ?? 0) + 1) },
            ttl: { N: String(Math.floor(this.now() / 1000) + STATE_TTL_SECONDS) },
          },
          ...(previous === undefined
            ? { ConditionExpression: 'attribute_not_exists(sk)' }
            : {
                ConditionExpression: 'version = :v',
                ExpressionAttributeValues: { ':v': { N: String(previous) } },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
