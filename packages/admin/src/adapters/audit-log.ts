import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  type AdminAuditEntry,
  type AdminOutcome,
  type AuditLogPort,
  type AuditQuery,
  type AuditQueryPort,
  auditText,
  type StoredAuditEntry,
  safeAuditDetail,
} from '../audit.js';

const OUTCOMES: ReadonlySet<string> = new Set<AdminOutcome>(['succeeded', 'unchanged', 'refused', 'failed']);
const DAY_MS = 86_400_000;

/**
 * {@link AuditLogPort} and {@link AuditQueryPort} on the admin audit table (serverless/resources/admin.yml):
 * pk `target`, sk `sk` = `<at ISO-8601>#<uuid>` (a target's history in time order); GSI `byDay` (`day` =
 * `YYYY-MM-DD` of `at`, `sk`) for "what happened between these times"; GSI `byActor` (`actor`, `sk`) for "what did
 * this principal do". Entries are only ever put (never updated or deleted by this code); the detail goes through
 * {@link safeAuditDetail}, so no secret is stored.
 */
export class DynamoDbAuditLog implements AuditLogPort, AuditQueryPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly newId: () => string = randomUUID,
  ) {}

  async record(entry: AdminAuditEntry): Promise<void> {
    const at = entry.at.toISOString();
    const id = this.newId();
    const detail = safeAuditDetail(entry.detail);
    const item: Record<string, AttributeValue> = {
      target: { S: auditText(entry.target) },
      sk: { S: `${at}#${id}` },
      day: { S: at.slice(0, 10) },
      actor: { S: auditText(entry.actor) },
      action: { S: auditText(entry.action) },
      outcome: { S: entry.outcome },
      at: { S: at },
      id: { S: id },
    };
    if (Object.keys(detail).length > 0) {
      item.detail = {
        M: Object.fromEntries(
          Object.entries(detail).map(([k, v]): [string, AttributeValue] => [
            k,
            typeof v === 'string' ? { S: v } : typeof v === 'number' ? { N: String(v) } : { BOOL: v },
          ]),
        ),
      };
    }
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: item,
        // An entry is written once: a retried put of the same id never replaces what is there.
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
  }

  async list(query: AuditQuery): Promise<StoredAuditEntry[]> {
    const lo = query.since.toISOString();
    const hi = `${query.until.toISOString()}#\uffff`;
    const window = { ':lo': { S: lo }, ':hi': { S: hi } };
    if (query.target !== undefined || query.actor !== undefined) {
      const byTarget = query.target !== undefined;
      return this.collect(
        {
          TableName: this.tableName,
          ...(byTarget ? {} : { IndexName: 'byActor' }),
          KeyConditionExpression: `${byTarget ? '#t' : 'actor'} = :who AND sk BETWEEN :lo AND :hi`,
          ...(byTarget ? { ExpressionAttributeNames: { '#t': 'target' } } : {}),
          ExpressionAttributeValues: { ':who': { S: query.target ?? query.actor ?? '' }, ...window },
          ScanIndexForward: false,
        },
        query.limit,
        [],
      );
    }
    const entries: StoredAuditEntry[] = [];
    const midnight = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    const first = midnight(query.since);
    for (let day = midnight(query.until); day >= first && entries.length < query.limit; day -= DAY_MS) {
      const name = new Date(day).toISOString().slice(0, 10);
      await this.collect(
        {
          TableName: this.tableName,
          IndexName: 'byDay',
          KeyConditionExpression: '#d = :day AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeNames: { '#d': 'day' },
          ExpressionAttributeValues: { ':day': { S: name }, ...window },
          ScanIndexForward: false,
        },
        query.limit,
        entries,
      );
    }
    return entries;
  }

  private async collect(
    input: QueryCommandInput,
    limit: number,
    into: StoredAuditEntry[],
  ): Promise<StoredAuditEntry[]> {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({ ...input, Limit: limit - into.length, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) {
        const entry = fromItem(item);
        if (entry !== undefined) into.push(entry);
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined && into.length < limit);
    return into;
  }
}

function fromItem(item: Record<string, AttributeValue>): StoredAuditEntry | undefined {
  const at = item.at?.S;
  const outcome = item.outcome?.S;
  if (at === undefined || outcome === undefined || !OUTCOMES.has(outcome)) return undefined;
  const detail: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(item.detail?.M ?? {})) {
    if (v.S !== undefined) detail[k] = v.S;
    else if (v.N !== undefined) detail[k] = Number(v.N);
    else if (v.BOOL !== undefined) detail[k] = v.BOOL;
  }
  return {
    id: item.id?.S ?? '',
    actor: item.actor?.S ?? '',
    action: item.action?.S ?? '',
    target: item.target?.S ?? '',
    outcome: outcome as AdminOutcome,
    at: new Date(at),
    ...(Object.keys(detail).length > 0 ? { detail } : {}),
  };
}
