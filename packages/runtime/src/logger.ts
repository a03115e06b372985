import { Logger } from '@aws-lambda-powertools/logger';
import { redactingReplacer } from './redact.js';

export type { Logger } from '@aws-lambda-powertools/logger';

/** Log levels accepted in `LOG_LEVEL`. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Service name on every line (`service`), e.g. `cert-broker`. */
  serviceName: string;
  /** The `LOG_LEVEL` value (case-insensitive); defaults to `INFO`. Unknown values fall back to `INFO`. */
  logLevel?: string | undefined;
  /** Keys added to every line, e.g. `{ stage: 'dev' }`. Redacted like everything else. */
  persistentKeys?: Record<string, unknown>;
}

function toLevel(value: string | undefined): LogLevel {
  const upper = (value ?? '').trim().toUpperCase();
  return (LOG_LEVELS as readonly string[]).includes(upper) ? (upper as LogLevel) : 'INFO';
}

/**
 * A Powertools Logger writing one structured JSON object per line, with every value
 * passed through the redaction layer: PEM private keys, bearer tokens, JWTs and fields
 * named like password/secret/token/authorization/plaintext/privateKey/ciphertext/esdk
 * become `"[REDACTED]"`, at any depth, including inside errors and their causes.
 * The middy wrappers add the Lambda context, `cold_start` and `correlation_id`.
 *
 * @example
 * const logger = createLogger({ serviceName: 'cert-broker', logLevel: process.env.LOG_LEVEL });
 * logger.info('certificate issued', { thingName, serialNumber });
 */
export function createLogger(opts: LoggerOptions): Logger {
  return new Logger({
    serviceName: opts.serviceName,
    logLevel: toLevel(opts.logLevel),
    jsonReplacerFn: redactingReplacer,
    ...(opts.persistentKeys ? { persistentKeys: opts.persistentKeys } : {}),
  });
}
