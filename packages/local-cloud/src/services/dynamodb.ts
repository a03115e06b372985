/**
 * DynamoDB: an in-process dynalite on an internal loopback port, proxied byte for byte, plus
 * TransactWriteItems (which dynalite lacks) composed from its single-item operations with a
 * snapshot and rollback (all-or-nothing for a single local client, enough for development).
 */
import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { AwsApiError } from '../errors.js';

type Key = Record<string, AttributeValue>;

export class DynamoDbService {
  private client: DynamoDBClient | undefined;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${this.port}`,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    const server = this.server;
    if (server) {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Proxies the request to dynalite unchanged. */
  proxy(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: this.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${this.port}`, 'content-length': String(body.length) },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: error.message,
        }),
      );
    });
    upstream.end(body);
  }

  /** TransactWriteItems: applied in order; on a failed condition, earlier writes are rolled back. */
  async transactWrite(input: {
    TransactItems?: Record<string, Record<string, unknown>>[];
  }): Promise<unknown> {
    const client = this.client;
    if (!client) throw new AwsApiError('InternalServerError', 'dynalite is not running', 500);
    const items = input.TransactItems ?? [];
    if (items.length === 0 || items.length > 100) {
      throw new AwsApiError('ValidationException', 'TransactItems must have length between 1 and 100');
    }
    const ops = items.map((item) => {
      const [kind, body] = Object.entries(item)[0] ?? [];
      if (!kind || !body) throw new AwsApiError('ValidationException', 'empty TransactItem');
      const table = String(body.TableName);
      const key = (kind === 'Put' ? undefined : body.Key) as Key | undefined;
      return { kind, body, table, key };
    });
    // Snapshot every touched item (Put: the key is read from the table's key schema via the item itself).
    const snapshots: { table: string; key: Key; item: Key | undefined }[] = [];
    for (const op of ops) {
      const key = op.key ?? (await this.keyOfItem(op.table, op.body.Item as Key));
      const got = await client.send(
        new GetItemCommand({ TableName: op.table, Key: key, ConsistentRead: true }),
      );
      snapshots.push({ table: op.table, key, item: got.Item });
    }
    const reasons: { Code: string; Message?: string }[] = ops.map(() => ({ Code: 'None' }));
    let failedAt = -1;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (!op) continue;
      const { kind, body } = op;
      const common = {
        TableName: op.table,
        ConditionExpression: body.ConditionExpression as string | undefined,
        ExpressionAttributeNames: body.ExpressionAttributeNames as Record<string, string> | undefined,
        ExpressionAttributeValues: body.ExpressionAttributeValues as Key | undefined,
      };
      try {
        if (kind === 'Put') await client.send(new PutItemCommand({ ...common, Item: body.Item as Key }));
        else if (kind === 'Delete') await client.send(new DeleteItemCommand({ ...common, Key: op.key }));
        else if (kind === 'Update') {
          await client.send(
            new UpdateItemCommand({
              ...common,
              Key: op.key,
              UpdateExpression: body.UpdateExpression as string,
            }),
          );
        } else if (kind === 'ConditionCheck') {
          await client.send(new UpdateItemCommand({ ...common, Key: op.key }));
          await this.restore(snapshots[i]);
        } else {
          throw new AwsApiError('ValidationException', `unknown TransactItem ${kind}`);
        }
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) {
          reasons[i] = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
          failedAt = i;
          break;
        }
        if (error instanceof AwsApiError) throw error;
        throw new AwsApiError('ValidationException', error instanceof Error ? error.message : String(error));
      }
    }
    if (failedAt >= 0) {
      for (let i = 0; i < failedAt; i++) await this.restore(snapshots[i]);
      throw new AwsApiError(
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        400,
        { CancellationReasons: reasons },
      );
    }
    return {};
  }

  private async restore(
    snapshot: { table: string; key: Key; item: Key | undefined } | undefined,
  ): Promise<void> {
    const client = this.client;
    if (!snapshot || !client) return;
    if (snapshot.item)
      await client.send(new PutItemCommand({ TableName: snapshot.table, Item: snapshot.item }));
    else await client.send(new DeleteItemCommand({ TableName: snapshot.table, Key: snapshot.key }));
  }

  private readonly keySchemas = new Map<string, string[]>();

  private async keyOfItem(table: string, item: Key): Promise<Key> {
    let names = this.keySchemas.get(table);
    if (!names) {
      const out = await this.client?.send(new DescribeTableCommand({ TableName: table }));
      names = (out?.Table?.KeySchema ?? []).map((k) => String(k.AttributeName));
      this.keySchemas.set(table, names);
    }
    const key: Key = {};
    for (const name of names) {
      const v = item[name];
      if (v) key[name] = v;
    }
    return key;
  }
}
