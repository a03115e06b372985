/**
 * What the AWS call recorder (aws-call-recorder.ts) keeps of a call, as pure functions: the identifying part of an
 * input (never items, messages, plaintexts or tokens), the fields that hold the function's configuration, and the
 * product files on the call stack.
 */
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the recordings go (shared with packages/iam, which reads them). */
export const RECORDINGS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'node_modules',
  '.cache',
  'aws-calls',
);
export const ROOT = join(RECORDINGS_DIR, '..', '..', '..');

/** One AWS call as recorded: what IAM needs to authorise it, and where in the function's code it came from. */
export interface RecordedCall {
  /** Smithy service id of the client (`KMS`, `DynamoDB`, `IoT Data Plane`, ...). */
  service: string;
  /** API operation (`Encrypt`, `PutItem`, ...): lib-dynamodb commands are recorded as the client command they send. */
  operation: string;
  /** The input, with binary and long values replaced by a marker (IAM only needs identifiers and contexts). */
  input: unknown;
  /** Input fields (dotted paths) whose value came from an environment variable, with the variable's name. */
  env: Record<string, string>;
  /** Product files on the call stack, innermost first (`src/...` of the function, `@cv/<lib>/src/...`). */
  sources: string[];
}

/** Fields that carry payloads, expressions or per-request tokens, never what IAM authorises on. */
const PAYLOAD_FIELDS = new Set([
  'Item',
  'Key',
  'Keys',
  'Body',
  'ExpressionAttributeValues',
  'ExpressionAttributeNames',
  'UpdateExpression',
  'ConditionExpression',
  'KeyConditionExpression',
  'FilterExpression',
  'ProjectionExpression',
  'Message',
  'MessageAttributes',
  'MessageBody',
  'Subject',
  'Plaintext',
  'CiphertextBlob',
  'Message',
  'Csr',
  'ApiPassthrough',
  'IdempotencyToken',
  'ClientToken',
  'payload',
  'correlationData',
  'policyDocument',
  'document',
  'description',
  'Description',
  'Title',
  'Note',
  'OperationalData',
  'Notifications',
  'RelatedOpsItems',
  'ExclusiveStartKey',
  'Validity',
  'Value',
]);

/** Random or time-dependent values, replaced by a fixed value of the same shape so reruns record the same file. */
const VOLATILE: Array<[RegExp, (m: string) => string]> = [
  [
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    () => '00000000-0000-4000-8000-000000000000',
  ],
  [/\b[0-9a-f]{32,64}\b/gi, (m) => '0'.repeat(m.length)],
  [/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, () => '2000-01-01T00:00:00.000Z'],
  [/\b(?:[0-9a-f]{2}:){7,}[0-9a-f]{2}\b/gi, (m) => m.replace(/[0-9a-f]/gi, '0')],
];
function stable(value: string): string {
  return VOLATILE.reduce((v, [re, to]) => v.replace(re, to), value);
}

const MAX_STRING = 256;
export function identifying(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? '<long>' : stable(value);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Uint8Array) return '<bytes>';
  if (depth > 5) return '<deep>';
  if (Array.isArray(value))
    return [...new Set(value.map((v) => JSON.stringify(identifying(v, depth + 1))))].map((v) =>
      JSON.parse(v),
    );
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    // DynamoDB's `Key` is an item's key (payload); S3's is the object's name, which IAM authorises on.
    if (PAYLOAD_FIELDS.has(key) && !(key === 'Key' && typeof field === 'string')) continue;
    const v = identifying(field, depth + 1);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

/**
 * Input fields whose value is exactly the value of an environment variable of the function (its configuration), by
 * path: the variable's name; `key:NAME` when the field's key is the value (a table name keying RequestItems); for an S3
 * URI whose bucket is one, a template `s3://${NAME}/<key>`.
 */
export function configured(
  input: unknown,
  path = '',
  out: Record<string, string> = {},
): Record<string, string> {
  if (typeof input === 'string') {
    const bucket = S3_URI.exec(input);
    for (const [name, value] of Object.entries(process.env)) {
      if (value === undefined || value.length <= 3 || /^(AWS_|NODE_|VITEST|npm_|PATH$|HOME$|PWD$)/.test(name))
        continue;
      if (value === input) {
        out[path] = name;
        break;
      }
      // An S3 URI whose bucket is configured (a truststore URI): the template `s3://${NAME}/<key>`.
      if (bucket?.[1] === value) {
        out[path] = `s3://\${${name}}/${bucket[2]}`;
        break;
      }
    }
  } else if (typeof input === 'object' && input !== null && !(input instanceof Uint8Array)) {
    for (const [key, value] of Object.entries(input)) {
      if (PAYLOAD_FIELDS.has(key)) continue;
      const at = path === '' ? key : `${path}.${key}`;
      // A configured name as a key (BatchGetItem's and BatchWriteItem's RequestItems are keyed by table name).
      const named = Object.entries(process.env).find(
        ([name, v]) =>
          v === key && key.length > 3 && !/^(AWS_|NODE_|VITEST|npm_|PATH$|HOME$|PWD$)/.test(name),
      );
      if (named !== undefined) out[at] = `key:${named[0]}`;
      configured(value, at, out);
    }
  }
  return out;
}

const FRAME = /(?:file:\/\/)?(\/[^\s()]*\/(?:functions|packages)\/[^/\s()]+\/(?:src|tests)\/[^\s():]+)/g;
/**
 * The product files on the call stack, innermost first: the function's own `src/` files (`src/...`) and the shared
 * libraries' (`@cv/<lib>/src/...`). A call is the function's when one of its own `src/` files is on the stack, or when
 * only library files and no test file are (the Encryption SDK's KMS calls under `@cv/crypto`'s decryptor: the async
 * stack stops there). Undefined otherwise: calls the test makes itself, e.g. as the simulated ECU.
 */
export function sourcesOnStack(stack: string): string[] | undefined {
  const out: string[] = [];
  let testFrame = false;
  for (const match of stack.matchAll(FRAME)) {
    const parts = relative(ROOT, match[1] ?? '').split(sep);
    const [area, pkg, dir] = parts;
    // The test harnesses (the local cloud calls dynalite itself) are never deployed: their calls are no function's.
    if (area === 'packages' && (pkg === 'test-support' || pkg === 'local-cloud')) continue;
    if (dir === 'tests') {
      testFrame = true;
      continue;
    }
    const rel = area === 'functions' ? parts.slice(2).join('/') : `@cv/${pkg}/${parts.slice(2).join('/')}`;
    if (!out.includes(rel)) out.push(rel);
  }
  if (out.some((s) => s.startsWith('src/'))) return out;
  return out.length > 0 && !testFrame ? out : undefined;
}

export interface Command {
  input?: unknown;
  schema?: unknown;
  clientCommand?: Command;
  constructor: { name: string };
}
export function operationOf(command: Command): { operation: string; input: unknown } {
  const sent = command.clientCommand ?? command;
  const schema = sent.schema;
  const name = Array.isArray(schema) && typeof schema[2] === 'string' ? schema[2] : undefined;
  return {
    operation: name ?? sent.constructor.name.replace(/Command$/, ''),
    input: command.input,
  };
}
