import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

/**
 * All vehicle-access rows of a user: Query on the partition key `userSub`, at most
 * `maxPages` pages (bounded work per authorization).
 * @example const rows = await queryAccessRows(doc, table, sub);
 */
export async function queryAccessRows(
  doc: DynamoDBDocumentClient,
  tableName: string,
  userSub: string,
  maxPages = 3,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let startKey: Record<string, unknown> | undefined;
  for (let page = 0; page < maxPages; page++) {
    const out = await doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'userSub = :sub',
        ExpressionAttributeValues: { ':sub': userSub },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
    if (startKey === undefined) break;
  }
  return items;
}
