import { type Env, integer, optionalString, requireString } from '@cv/runtime';

/** A KMS key id, key ARN, alias name or alias ARN (KMS accepts all four for Sign, GetPublicKey and Encrypt). */
const KMS_KEY =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+|alias\/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

export interface Config {
  stage: string;
  commandsTable: string;
  registryTable: string;
  registryVinIndex: string;
  accessTable: string;
  signingKeyId: string;
  encryptionKeyId: string;
  ttlSeconds: number;
  /** Account-specific IoT data endpoint host (`xxxx-ats.iot.<region>.amazonaws.com`); SDK default if unset. */
  iotDataEndpoint: string | undefined;
  logLevel: string;
  /** behaviour-detector's table, where commands are counted per ECU and hour; unset: not counted. */
  behaviourTable: string | undefined;
}

/**
 * Every variable the function needs, validated once at cold start.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): Config {
  const endpoint = optionalString(env, 'IOT_DATA_ENDPOINT', '', /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/);
  return {
    stage: requireString(env, 'STAGE', /^[a-z0-9-]{1,32}$/),
    commandsTable: requireString(env, 'COMMANDS_TABLE'),
    registryTable: requireString(env, 'ECU_REGISTRY_TABLE'),
    registryVinIndex: optionalString(env, 'ECU_REGISTRY_VIN_INDEX', 'byVin'),
    accessTable: requireString(env, 'VEHICLE_ACCESS_TABLE'),
    signingKeyId: requireString(env, 'COMMAND_SIGNING_KEY_ID', KMS_KEY),
    encryptionKeyId: requireString(env, 'COMMAND_ENCRYPTION_KEY_ID', KMS_KEY),
    ttlSeconds: integer(env, 'COMMAND_TTL_SECONDS', { min: 10, max: 900, fallback: 120 }),
    iotDataEndpoint: endpoint === '' ? undefined : endpoint,
    logLevel: optionalString(env, 'LOG_LEVEL', 'INFO'),
    behaviourTable: optionalString(env, 'BEHAVIOUR_TABLE', '', /^[A-Za-z0-9_.-]{3,255}$/) || undefined,
  };
}
