import { gunzipSync } from 'node:zlib';
import * as z from 'zod';
import { MalformedLogsError } from './errors.js';

/** Largest decompressed payload accepted (CloudWatch Logs sends at most ~1 MB of events per invocation). */
export const MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024;

const SubscriptionEventSchema = z.object({
  awslogs: z.object({
    data: z
      .string()
      .min(1)
      .max(2 * 1024 * 1024),
  }),
});

const LogsDataSchema = z.discriminatedUnion('messageType', [
  z.object({ messageType: z.literal('CONTROL_MESSAGE') }),
  z.object({
    messageType: z.literal('DATA_MESSAGE'),
    owner: z.string().max(32),
    logGroup: z.string().max(512),
    logStream: z.string().max(512),
    subscriptionFilters: z.array(z.string().max(512)).max(10),
    logEvents: z
      .array(
        z.object({
          id: z.string().min(1).max(128),
          timestamp: z.number().int().nonnegative(),
          message: z.string().max(262_144),
        }),
      )
      .max(20_000),
  }),
]);
export type LogsData = z.infer<typeof LogsDataSchema>;

/**
 * Decodes a CloudWatch Logs subscription event (`awslogs.data`: base64 of gzip of JSON).
 * @throws MalformedLogsError for anything else.
 */
export function decodeSubscriptionEvent(event: unknown): LogsData {
  const envelope = SubscriptionEventSchema.safeParse(event);
  if (!envelope.success) throw new MalformedLogsError('no awslogs.data');
  const compressed = Buffer.from(envelope.data.awslogs.data, 'base64');
  let json: string;
  try {
    json = gunzipSync(compressed, { maxOutputLength: MAX_DECOMPRESSED_BYTES }).toString('utf8');
  } catch (error) {
    throw new MalformedLogsError('awslogs.data is not gzip (or too large)', { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new MalformedLogsError('awslogs.data is not JSON', { cause: error });
  }
  const data = LogsDataSchema.safeParse(parsed);
  if (!data.success) throw new MalformedLogsError('unexpected CloudWatch Logs message shape');
  return data.data;
}

/** One AWS IoT authorization failure, attributed to the authenticated certificate. */
export interface AuthorizationFailure {
  /** The CloudWatch Logs event id: each failure counts once, however often its batch is delivered. */
  eventId: string;
  certificateId: string;
  /** The client id the connection claimed (attacker-controlled: context only, never a target). */
  clientId?: string;
  eventType: 'Connect' | 'Publish-In' | 'Subscribe';
  at: number;
  sourceIp?: string;
}

const IotLogSchema = z.object({
  status: z.string(),
  eventType: z.string(),
  reason: z.string().optional(),
  principalId: z.string().optional(),
  clientId: z.string().optional(),
  sourceIp: z.string().optional(),
});

const EVENT_TYPES = new Set(['Connect', 'Publish-In', 'Subscribe']);
const CERTIFICATE_ID = /^[0-9a-f]{64}$/;
const CLIENT_ID = /^[a-zA-Z0-9:_-]{1,128}$/;
const IP = /^[0-9a-fA-F.:]{2,45}$/;

/**
 * The authorization failures in AWS IoT v2 log lines (`AWSIotLogsV2`): status `Failure`, reason
 * `AUTHORIZATION_FAILURE`, event type Connect, Publish-In or Subscribe, by an X.509 certificate principal.
 * Everything else (other events, Cognito or custom-authorizer principals, non-JSON lines) is skipped and counted.
 */
export function authorizationFailures(data: LogsData): { failures: AuthorizationFailure[]; skipped: number } {
  if (data.messageType !== 'DATA_MESSAGE') return { failures: [], skipped: 0 };
  const failures: AuthorizationFailure[] = [];
  let skipped = 0;
  for (const event of data.logEvents) {
    const line = IotLogSchema.safeParse(safeJson(event.message));
    if (
      !line.success ||
      line.data.status !== 'Failure' ||
      line.data.reason !== 'AUTHORIZATION_FAILURE' ||
      !EVENT_TYPES.has(line.data.eventType) ||
      !CERTIFICATE_ID.test(line.data.principalId ?? '')
    ) {
      skipped++;
      continue;
    }
    const { clientId, sourceIp } = line.data;
    failures.push({
      eventId: event.id,
      certificateId: line.data.principalId ?? '',
      eventType: line.data.eventType as AuthorizationFailure['eventType'],
      at: event.timestamp,
      ...(clientId !== undefined && CLIENT_ID.test(clientId) ? { clientId } : {}),
      ...(sourceIp !== undefined && IP.test(sourceIp) ? { sourceIp } : {}),
    });
  }
  return { failures, skipped };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
