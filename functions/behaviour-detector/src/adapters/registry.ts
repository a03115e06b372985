import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ROLES, type Role } from '../model.js';
import type { RoleDirectory } from '../ports.js';

/** Roles looked up are kept per container (bounded): a role does not change for an ECU. */
const MAX_CACHED = 10_000;

/**
 * {@link RoleDirectory} on the ECU registry (pk `ecuId`; thing name `<VIN>_<ecuId>`): the row's `role`, only when
 * the row names this very thing.
 */
export class RegistryRoles implements RoleDirectory {
  private readonly cache = new Map<string, Role | undefined>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async roleOf(thingName: string): Promise<Role | undefined> {
    if (this.cache.has(thingName)) return this.cache.get(thingName);
    const ecuId = thingName.slice(thingName.indexOf('_') + 1);
    if (!thingName.includes('_') || ecuId === '') return undefined;
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { ecuId: { S: ecuId } },
        ProjectionExpression: '#role, thingName',
        ExpressionAttributeNames: { '#role': 'role' },
      }),
    );
    const role = out.Item?.role?.S;
    const found =
      out.Item?.thingName?.S === thingName && (ROLES as readonly string[]).includes(role ?? '')
        ? (role as Role)
        : undefined;
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(thingName, found);
    return found;
  }
}
