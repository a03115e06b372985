import * as z from 'zod';

export const VIN_PATTERN = /^[A-HJ-NPR-Z0-9]{17}$/;
export const ECU_ID_PATTERN = /^[A-Za-z0-9-]{1,40}$/;
export const THING_NAME_PATTERN = /^[A-HJ-NPR-Z0-9]{17}_[A-Za-z0-9-]{1,40}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const commandIdSchema = z.string().regex(UUID_V4, 'commandId must be a lowercase UUID v4');
export const thingNameSchema = z.string().regex(THING_NAME_PATTERN, 'thingName must be <VIN>_<ecuId>');

/** The JOSE header of a command JWS: exactly these three members (no `crit`, `jku`, `x5u`, ...). */
export const jwsHeaderSchema = z.strictObject({
  alg: z.string().max(16),
  kid: z.string().min(1).max(2048),
  typ: z.string().max(64),
});
export type JwsHeader = z.infer<typeof jwsHeaderSchema>;

const epochSeconds = z
  .number()
  .int()
  .min(0)
  .max(2 ** 40);

/** docs/architecture.md §6 claims; strict so an unexpected claim is a rejection, not silently ignored. */
export const commandClaimsSchema = z.strictObject({
  iss: z.string().min(1).max(256),
  aud: thingNameSchema,
  sub: z.string().min(1).max(256),
  jti: commandIdSchema,
  iat: epochSeconds,
  exp: epochSeconds,
  vin: z.string().regex(VIN_PATTERN),
  cmd: z
    .string()
    .regex(/^[a-z]+(\.[a-z]+)*$/)
    .max(64),
  args: z.record(z.string().max(64), z.unknown()),
});
export type CommandClaims = z.infer<typeof commandClaimsSchema>;

/** The KMS encryption context binding a ciphertext to one ECU and one command. */
export const encryptionContextSchema = z.strictObject({ aud: thingNameSchema, jti: commandIdSchema });
export type EncryptionContext = z.infer<typeof encryptionContextSchema>;

/** docs/architecture.md §6 step 4: the MQTT payload. Strict: unknown members are rejected. */
export const commandEnvelopeSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('command'),
  commandId: commandIdSchema,
  keyId: z.string().min(1).max(2048),
  context: encryptionContextSchema,
  ciphertext: z
    .string()
    .min(4)
    .max(64 * 1024),
});
export type CommandEnvelope = z.infer<typeof commandEnvelopeSchema>;
