// zod/mini: the same checks as classic zod at a quarter of its bundle size (issue 16, docs/performance.md).
import * as z from 'zod/mini';

const CERTIFICATE_ID = /^[0-9a-f]{64}$/;
const timestamp = z.optional(z.union([z.number(), z.string(), z.null()]));

/**
 * The event of `$aws/events/certificates/registered/<caCertificateId>` as delivered by the
 * IoT rule `SELECT * FROM ...`. Extra fields are tolerated (AWS may add some).
 */
export const jitrEventSchema = z.looseObject({
  certificateId: z.string().check(z.regex(CERTIFICATE_ID, 'must be a 64-character hex certificate id')),
  caCertificateId: z.string().check(z.regex(CERTIFICATE_ID, 'must be a 64-character hex CA certificate id')),
  certificateStatus: z.optional(z.string().check(z.maxLength(64))),
  awsAccountId: z.optional(z.string().check(z.regex(/^\d{12}$/))),
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
