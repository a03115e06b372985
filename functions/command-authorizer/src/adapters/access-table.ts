import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The user's vehicle-access row for one vehicle: one `GetItem` on the key (`userSub`, `vin`), whatever the number
 * of vehicles the user has. Eventually consistent (half a read unit): a revocation is enforced by the
 * command-sender's consistent re-read, not here.
 * @example const row = await getAccessRow(doc, table, sub, vin);
 */
export async function getAccessRow(
  doc: DynamoDBDocumentClient,
  tableName: string,
  userSub: string,
  vin: string,
): Promise<unknown> {
  const out = await doc.send(new GetCommand({ TableName: tableName, Key: { userSub, vin } }));
  return out.Item;
}
