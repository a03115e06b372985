import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  CommandRow,
  CommandStore,
  EcuRecord,
  IdempotencyClaim,
  IdempotencyRequest,
  Registry,
  SendResponse,
} from '../ports.js';

/**
 * Registry lookups through the `byVin` GSI only (the function's role has `dynamodb:Query`
 * on that index, not on the table).
 * @example const ecus = await dynamoRegistry(doc, table).ecusOfVehicle(vin);
 */
export function dynamoRegistry(
  doc: DynamoDBDocumentClient,
  tableName: string,
  indexName = 'byVin',
): Registry {
  return {
    async ecusOfVehicle(vin, ecuId) {
      const out = await doc.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: indexName,
          KeyConditionExpression: ecuId === undefined ? 'vin = :vin' : 'vin = :vin AND ecuId = :ecuId',
          ExpressionAttributeValues: ecuId === undefined ? { ':vin': vin } : { ':vin': vin, ':ecuId': ecuId },
          Limit: 50,
        }),
      );
      return (out.Items ?? []).flatMap((item): EcuRecord[] =>
        typeof item.ecuId === 'string' && typeof item.vin === 'string'
          ? [
              {
                ecuId: item.ecuId,
                vin: item.vin,
                ...(typeof item.role === 'string' ? { role: item.role } : {}),
                ...(typeof item.status === 'string' ? { status: item.status } : {}),
                ...(typeof item.thingName === 'string' ? { thingName: item.thingName } : {}),
              },
            ]
          : [],
      );
    },
  };
}

/**
 * Command rows and idempotency records in the commands table. Idempotency records use the
 * key `idempotency#<sha256(sub, Idempotency-Key)>` (never a UUID, so never confused with a
 * command) and carry `kind = "idempotency"`; they expire with DynamoDB TTL.
 */
export function dynamoCommandStore(doc: DynamoDBDocumentClient, tableName: string): CommandStore {
  const getRow = async (commandId: string, consistent: boolean): Promise<CommandRow | undefined> => {
    const out = await doc.send(
      new GetCommand({
        TableName: tableName,
        Key: { commandId },
        ...(consistent ? { ConsistentRead: true } : {}),
      }),
    );
    const item = out.Item;
    if (item === undefined || item.kind === 'idempotency' || typeof item.vin !== 'string') return undefined;
    return item as CommandRow;
  };
  return {
    async claim(req: IdempotencyRequest): Promise<IdempotencyClaim> {
      try {
        const out = await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { commandId: req.key },
            UpdateExpression:
              'SET #kind = :kind, #status = :inProgress, inProgressUntil = :until, requestHash = if_not_exists(requestHash, :hash), targetCommandId = if_not_exists(targetCommandId, :commandId), #ttl = if_not_exists(#ttl, :ttl)',
            ConditionExpression:
              'attribute_not_exists(commandId) OR (requestHash = :hash AND (#status = :failed OR (#status = :inProgress AND inProgressUntil < :now)))',
            ExpressionAttributeNames: { '#kind': 'kind', '#status': 'status', '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':kind': 'idempotency',
              ':inProgress': 'IN_PROGRESS',
              ':failed': 'FAILED',
              ':until': req.nowSeconds + req.inProgressSeconds,
              ':hash': req.requestHash,
              ':commandId': req.commandId,
              ':ttl': req.expiresAtSeconds,
              ':now': req.nowSeconds,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const id = out.Attributes?.targetCommandId;
        if (typeof id !== 'string') throw new Error('Idempotency record without a command id');
        return { state: 'claimed', commandId: id };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      const existing = await doc.send(
        new GetCommand({ TableName: tableName, Key: { commandId: req.key }, ConsistentRead: true }),
      );
      const item = existing.Item;
      // Raced with a TTL delete: the client retries at once.
      if (item === undefined) return { state: 'in_progress', retryAfterSeconds: 1 };
      if (item.requestHash !== req.requestHash) return { state: 'mismatch' };
      if (item.status === 'COMPLETED' && typeof item.response === 'object' && item.response !== null) {
        return { state: 'completed', response: item.response as SendResponse };
      }
      const until = typeof item.inProgressUntil === 'number' ? item.inProgressUntil : req.nowSeconds;
      return { state: 'in_progress', retryAfterSeconds: leaseLeft(until, req) };
    },

    async release(key) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { commandId: key },
          UpdateExpression: 'SET #status = :failed',
          ConditionExpression: '#status = :inProgress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':failed': 'FAILED', ':inProgress': 'IN_PROGRESS' },
        }),
      );
    },

    async complete(key, response) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { commandId: key },
          UpdateExpression: 'SET #status = :completed, #response = :response',
          ConditionExpression: '#status = :inProgress AND targetCommandId = :commandId',
          ExpressionAttributeNames: { '#status': 'status', '#response': 'response' },
          ExpressionAttributeValues: {
            ':completed': 'COMPLETED',
            ':inProgress': 'IN_PROGRESS',
            ':response': response,
            ':commandId': response.commandId,
          },
        }),
      );
    },

    async recordPending(row: CommandRow) {
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: row,
            ConditionExpression:
              'attribute_not_exists(commandId) OR (#status = :pending AND requestedBy = :sub AND thingName = :thing)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':pending': 'PENDING',
              ':sub': row.requestedBy,
              ':thing': row.thingName,
            },
          }),
        );
        return 'recorded';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // The id is taken: by this request's earlier, answered attempt, or (never for a random UUID) by another.
      const existing = await getRow(row.commandId, true);
      if (existing?.requestedBy === row.requestedBy && existing.thingName === row.thingName)
        return 'answered';
      throw new Error(`Command id ${row.commandId} is taken by another command`);
    },

    async withdrawPending(commandId) {
      try {
        await doc.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { commandId },
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':pending': 'PENDING' },
          }),
        );
        return 'withdrawn';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Not PENDING: answered, unless there is no row at all (nothing left to withdraw).
      return (await getRow(commandId, true)) === undefined ? 'withdrawn' : 'answered';
    },

    get: (commandId) => getRow(commandId, false),
  };
}

/** Seconds until an in-progress lease ends, at least 1 and at most the lease itself. */
function leaseLeft(until: number, req: IdempotencyRequest): number {
  return Math.min(req.inProgressSeconds, Math.max(1, until - req.nowSeconds + 1));
}
