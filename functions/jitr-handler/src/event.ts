import { z } from 'zod';

const CERTIFICATE_ID = /^[0-9a-f]{64}$/;
const timestamp = z.union([z.number(), z.string(), z.null()]).optional();

/**
 * The event of `$aws/events/certificates/registered/<caCertificateId>` as delivered by the
 * IoT rule `SELECT * FROM ...`. Extra fields are tolerated (AWS may add some).
 */
export const jitrEventSchema = z.looseObject({
  certificateId: z.string().regex(CERTIFICATE_ID, 'must be a 64-character hex certificate id'),
  caCertificateId: z.string().regex(CERTIFICATE_ID, 'must be a 64-character hex CA certificate id'),
  certificateStatus: z.string().max(64).optional(),
  awsAccountId: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  timestamp,
  certificateRegistrationTimestamp: timestamp,
});

export type JitrEventInput = z.infer<typeof jitrEventSchema>;

/**
 * Parses the JITR event at the edge.
 * @example const event = parseJitrEvent(raw);
 */
export function parseJitrEvent(raw: unknown): JitrEventInput {
  return jitrEventSchema.parse(raw);
}
