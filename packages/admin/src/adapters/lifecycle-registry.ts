import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { LifecycleEcuRow, LifecycleRegistryPort, LifecycleStatus } from '../lifecycle/ports.js';
import type { ActionRecord } from '../ports.js';

type Item = Record<string, AttributeValue>;
const text = (v: AttributeValue | undefined): string | undefined => v?.S;

function rowOf(item: Item): LifecycleEcuRow | undefined {
  const ecuId = text(item.ecuId);
  if (ecuId === undefined) return undefined;
  return {
    ecuId,
    vin: text(item.vin) ?? '',
    role: text(item.role) ?? '',
    status: text(item.status) ?? '',
    thingName: text(item.thingName),
    decommissionCertificateIds: item.decommissionCertificateIds?.SS ?? [],
    decommissionedAt: text(item.decommissionedAt),
    replacedBy: text(item.replacedBy),
  };
}

/** The who/when/why of an action as update values (`:at`, `:by` and, when given, `:reason`). */
function recordValues(record: ActionRecord): Item {
  return {
    ':at': { S: record.at.toISOString() },
    ':by': { S: record.by },
    ...(record.reason === undefined ? {} : { ':reason': { S: record.reason } }),
  };
}

/**
 * {@link LifecycleRegistryPort} on the ECU registry table (pk `ecuId`, GSI `byVin`). Status changes are conditional
 * writes; each records `statusChangedAt`, `statusChangedBy` and `statusReason` (removed when no reason is given).
 */
export class DynamoDbLifecycleRegistry implements LifecycleRegistryPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly vinIndex = 'byVin',
  ) {}

  async get(ecuId: string): Promise<LifecycleEcuRow | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { ecuId: { S: ecuId } }, ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : rowOf(out.Item);
  }

  async ecusOfVehicle(vin: string): Promise<LifecycleEcuRow[]> {
    const rows: LifecycleEcuRow[] = [];
    let start: Item | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: this.vinIndex,
          KeyConditionExpression: 'vin = :vin',
          ExpressionAttributeValues: { ':vin': { S: vin } },
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of out.Items ?? []) {
        const row = rowOf(item);
        if (row !== undefined && row.vin === vin) rows.push(row);
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    // The index is eventually consistent: read each row again before acting on it.
    const fresh: LifecycleEcuRow[] = [];
    for (const row of rows) {
      const now = await this.get(row.ecuId);
      if (now !== undefined && now.vin === vin) fresh.push(now);
    }
    return fresh;
  }

  async transition(
    ecuId: string,
    from: readonly string[],
    to: LifecycleStatus,
    record: ActionRecord,
  ): Promise<boolean> {
    const allowed = Object.fromEntries(from.map((s, i) => [`:from${i}`, { S: s }]));
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { ecuId: { S: ecuId } },
          UpdateExpression:
            record.reason === undefined
              ? 'SET #status = :to, statusChangedAt = :at, statusChangedBy = :by, updatedAt = :at REMOVE statusReason'
              : 'SET #status = :to, statusChangedAt = :at, statusChangedBy = :by, statusReason = :reason, updatedAt = :at',
          ConditionExpression: `attribute_exists(ecuId) AND #status IN (${Object.keys(allowed).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':to': { S: to }, ...allowed, ...recordValues(record) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async rememberCertificates(ecuId: string, certificateIds: readonly string[]): Promise<void> {
    if (certificateIds.length === 0) return;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { ecuId: { S: ecuId } },
        UpdateExpression: 'ADD decommissionCertificateIds :ids',
        ConditionExpression: 'attribute_exists(ecuId)',
        ExpressionAttributeValues: { ':ids': { SS: [...new Set(certificateIds)] } },
      }),
    );
  }

  async completeDecommission(ecuId: string, record: ActionRecord): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { ecuId: { S: ecuId } },
        UpdateExpression: 'SET decommissionedAt = :at, decommissionedBy = :by, updatedAt = :at',
        ConditionExpression: '#status = :decommissioned',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':decommissioned': { S: 'DECOMMISSIONED' },
          ':at': { S: record.at.toISOString() },
          ':by': { S: record.by },
        },
      }),
    );
  }

  async recordReplacement(oldEcuId: string, newEcuId: string, record: ActionRecord): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { ecuId: { S: oldEcuId } },
          UpdateExpression:
            'SET replacedBy = :new, replacedAt = :at, replacedByOperator = :by, updatedAt = :at',
          ConditionExpression:
            'attribute_exists(ecuId) AND (attribute_not_exists(replacedBy) OR replacedBy = :new)',
          ExpressionAttributeValues: {
            ':new': { S: newEcuId },
            ':at': { S: record.at.toISOString() },
            ':by': { S: record.by },
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { ecuId: { S: newEcuId } },
        UpdateExpression: 'SET replaces = :old, updatedAt = :at',
        ConditionExpression: 'attribute_exists(ecuId)',
        ExpressionAttributeValues: { ':old': { S: oldEcuId }, ':at': { S: record.at.toISOString() } },
      }),
    );
    return true;
  }
}
