import { arn, type Env, integer, optionalString, requireString } from '@cv/runtime';

export interface Config {
  telemetryTable: string;
  commandsTable: string;
  /** ARN of the symmetric KMS key the ECUs encrypt telemetry data keys under. */
  telemetryKeyId: string;
  ttlDays: number;
  maxPayloadBytes: number;
  dataKeyCacheCapacity: number;
  dataKeyCacheMaxAgeSeconds: number;
  logLevel: string;
  /** behaviour-detector's table, where messages are counted per ECU and hour; unset: not counted. */
  behaviourTable?: string;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * Reads and validates every variable once, at cold start.
 *
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): Config {
  return {
    telemetryTable: requireString(env, 'TELEMETRY_TABLE', TABLE_NAME),
    commandsTable: requireString(env, 'COMMANDS_TABLE', TABLE_NAME),
    // A key ARN, not an alias: the keyring only decrypts data keys whose recorded key ARN equals this one.
    telemetryKeyId: arn(env, 'TELEMETRY_KEY_ID', 'kms'),
    ttlDays: integer(env, 'TELEMETRY_TTL_DAYS', { min: 1, max: 3650, fallback: 30 }),
    maxPayloadBytes: integer(env, 'MAX_PAYLOAD_BYTES', { min: 1024, max: 131_072, fallback: 65_536 }),
    dataKeyCacheCapacity: integer(env, 'DATA_KEY_CACHE_CAPACITY', { min: 1, max: 100_000, fallback: 1000 }),
    dataKeyCacheMaxAgeSeconds: integer(env, 'DATA_KEY_CACHE_MAX_AGE_SECONDS', {
      min: 1,
      max: 3600,
      fallback: 300,
    }),
    logLevel: optionalString(env, 'LOG_LEVEL', 'INFO'),
    ...behaviourTable(env),
  };
}

function behaviourTable(env: Env): { behaviourTable?: string } {
  const table = optionalString(env, 'BEHAVIOUR_TABLE', '', TABLE_NAME);
  return table === '' ? {} : { behaviourTable: table };
}
