import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { AccessGrant, VehicleAccess } from '../ports.js';

/** The part of a vehicle-access row the sender needs (docs/commands.md, "Vehicle access rows"). */
const rowSchema = z.object({
  userSub: z.string(),
  vin: z.string(),
  kind: z.literal('access').optional(),
  commands: z.array(z.string().max(64)).min(1).max(64),
  validUntil: z.number().int().optional(),
});

/**
 * {@link VehicleAccess} on the vehicle-access table: one strongly consistent `GetItem` per request, so a row deleted
 * by a revocation or a transfer is not seen a moment later.
 * @example const grant = await dynamoVehicleAccess(doc, table).grantOf(sub, vin);
 */
export function dynamoVehicleAccess(doc: DynamoDBDocumentClient, tableName: string): VehicleAccess {
  return {
    async grantOf(userSub, vin): Promise<AccessGrant | undefined> {
      const out = await doc.send(
        new GetCommand({ TableName: tableName, Key: { userSub, vin }, ConsistentRead: true }),
      );
      const row = rowSchema.safeParse(out.Item);
      if (!row.success || row.data.userSub !== userSub || row.data.vin !== vin) return undefined;
      return {
        commands: row.data.commands,
        ...(row.data.validUntil === undefined ? {} : { validUntil: row.data.validUntil }),
      };
    },
  };
}
