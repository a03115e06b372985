import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type AccessChange,
  type AccessGrant,
  type AccessRole,
  ROLES,
  type VehicleAccessPort,
  type VehicleMarker,
} from '../access/ports.js';

type Item = Record<string, AttributeValue>;
const MARKER_PREFIX = 'vehicle#';
const markerKey = (vin: string): Item => ({ userSub: { S: `${MARKER_PREFIX}${vin}` }, vin: { S: vin } });

function grantItem(g: AccessGrant): Item {
  return {
    userSub: { S: g.userSub },
    vin: { S: g.vin },
    kind: { S: 'access' },
    role: { S: g.role },
    commands: { L: g.commands.map((c) => ({ S: c })) },
    ...(g.validUntil === undefined ? {} : { validUntil: { N: String(g.validUntil) } }),
    ...(g.grantedBy === undefined ? {} : { grantedBy: { S: g.grantedBy } }),
    ...(g.grantedAt === undefined ? {} : { grantedAt: { S: g.grantedAt } }),
  };
}

/** A row as the authorizer accepts it (docs/commands.md), else `undefined`. */
function grantOf(item: Item | undefined): AccessGrant | undefined {
  if (item === undefined || item.kind?.S === 'vehicle') return undefined;
  const userSub = item.userSub?.S;
  const vin = item.vin?.S;
  const role = (item.role?.S ?? 'owner') as AccessRole;
  const commands = (item.commands?.L ?? []).flatMap((v) => (v.S === undefined ? [] : [v.S]));
  if (userSub === undefined || vin === undefined || !ROLES.includes(role) || commands.length === 0)
    return undefined;
  const validUntil = item.validUntil?.N === undefined ? undefined : Number(item.validUntil.N);
  return {
    userSub,
    vin,
    role,
    commands,
    ...(validUntil === undefined ? {} : { validUntil }),
    ...(item.grantedBy?.S === undefined ? {} : { grantedBy: item.grantedBy.S }),
    ...(item.grantedAt?.S === undefined ? {} : { grantedAt: item.grantedAt.S }),
  };
}

/**
 * {@link VehicleAccessPort} on the vehicle-access table (key `userSub`, `vin`). A change is one
 * `TransactWriteItems`: the marker (put, conditional on its version) and the rows put and deleted.
 */
export class DynamoDbVehicleAccess implements VehicleAccessPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async marker(vin: string): Promise<VehicleMarker> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: markerKey(vin), ConsistentRead: true }),
    );
    const item = out.Item;
    return {
      vin,
      owner: item?.owner?.S,
      grantees: (item?.grantees?.L ?? []).flatMap((v) => (v.S === undefined ? [] : [v.S])),
      version: item?.version?.N === undefined ? 0 : Number(item.version.N),
    };
  }

  async get(userSub: string, vin: string): Promise<AccessGrant | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { userSub: { S: userSub }, vin: { S: vin } },
        ConsistentRead: true,
      }),
    );
    return grantOf(out.Item);
  }

  async listByUser(
    userSub: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<{ grants: AccessGrant[]; cursor: string | undefined }> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'userSub = :sub',
        ExpressionAttributeValues: { ':sub': { S: userSub } },
        Limit: page.limit,
        ...(page.cursor === undefined
          ? {}
          : { ExclusiveStartKey: { userSub: { S: userSub }, vin: { S: page.cursor } } }),
      }),
    );
    return {
      grants: (out.Items ?? []).flatMap((item) => {
        const g = grantOf(item);
        return g === undefined ? [] : [g];
      }),
      cursor: out.LastEvaluatedKey?.vin?.S,
    };
  }

  async commit(change: AccessChange): Promise<boolean> {
    const marker: Item = {
      ...markerKey(change.vin),
      kind: { S: 'vehicle' },
      grantees: { L: change.grantees.map((g) => ({ S: g })) },
      version: { N: String(change.expectedVersion + 1) },
      ...(change.owner === undefined ? {} : { owner: { S: change.owner } }),
    };
    const items: TransactWriteItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: marker,
          ConditionExpression:
            change.expectedVersion === 0 ? 'attribute_not_exists(userSub)' : 'version = :version',
          ...(change.expectedVersion === 0
            ? {}
            : { ExpressionAttributeValues: { ':version': { N: String(change.expectedVersion) } } }),
        },
      },
      ...change.remove
        .filter((sub) => !change.put.some((g) => g.userSub === sub))
        .map((sub) => ({
          Delete: { TableName: this.tableName, Key: { userSub: { S: sub }, vin: { S: change.vin } } },
        })),
      ...change.put.map((g) => ({ Put: { TableName: this.tableName, Item: grantItem(g) } })),
    ];
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      ) {
        return false;
      }
      throw error;
    }
  }
}
