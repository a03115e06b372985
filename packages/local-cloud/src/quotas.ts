/**
 * AWS's default request-rate quotas, enforced by the local cloud with one token bucket per
 * quota (off unless `LocalCloud.start({ quotas })` is given). A throttled call is answered with
 * the service's own throttling error in its wire format, so the SDK's retry strategy (adaptive
 * in the functions) sees exactly what it would see in AWS.
 *
 * `timeScale` keeps the ratios of the real quotas while a run finishes in minutes: with a
 * scale of 10, one real second is ten quota seconds (every bucket refills ten times faster and
 * every modelled latency is ten times shorter). Rates reported by the harness are divided by
 * the scale again, so they compare with the published quotas.
 *
 * Values: defaults for eu-west-1 (the project's region). Each `source` is the AWS page that
 * publishes the value. Checked in December 2026 against what the reference corpus holds (the
 * `search` tool's copies of those pages show only their openings, not the quota tables), so each
 * value's comment says where the number itself was seen:
 * - [SQ]: a public dump of the Service Quotas API's default values (quota codes L-...), found
 *   by exact-string search of public repositories (the repository was not named by the index);
 * - [TP]: aws-iot-builder-tools/thingpress, doc/aws-api-limits.md ("last checked on 6/13/2025");
 * - [KD]: awsdocs/aws-kms-developer-guide, doc_source/requests-per-second.md (archived copy of
 *   the KMS page);
 * - [IB]: public copies of the IoT Core "message broker and protocol limits" table;
 * - "not confirmed": no copy of the number was found; the value is kept as first written.
 * Quotas are adjustable unless noted; an account may have other values (check Service Quotas).
 */
import { AwsApiError } from './errors.js';
import { matchPath } from './wire.js';

/** One rate quota: the operations it covers share one bucket. */
export interface QuotaSpec {
  /** Stable name, e.g. `acm-pca:IssueCertificate`. */
  readonly name: string;
  /** SigV4 service name (`acm-pca`, `iot`, `iotdata`, `kms`, `ssm`) or `iot-broker` for MQTT. */
  readonly service: string;
  /** Operations (SDK command name without `Command`) sharing the bucket. */
  readonly operations: readonly string[];
  /** Requests per second (the published default). */
  readonly perSecond: number;
  /** Where the value is published. */
  readonly source: string;
}

const PCA = 'https://docs.aws.amazon.com/general/latest/gr/pca.html#limits_pca';
const IOT_API = 'https://docs.aws.amazon.com/general/latest/gr/iot-core.html#throttling-limits';
const IOT_BROKER = 'https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits';
const KMS = 'https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html';
const SSM = 'https://docs.aws.amazon.com/general/latest/gr/ssm.html#limits_ssm';

const iot = (operation: string, perSecond: number): QuotaSpec => ({
  name: `iot:${operation}`,
  service: 'iot',
  operations: [operation],
  perSecond,
  source: IOT_API,
});

/** The quotas of every API the functions call (see each function's adapters). */
export const AWS_DEFAULT_QUOTAS: readonly QuotaSpec[] = [
  // AWS Private CA, "Rate of <Operation> requests" per account and Region.
  // [SQ] L-CAFB4993 IssueCertificate 25, L-1725E639 GetCertificate 75 (both adjustable).
  {
    name: 'acm-pca:IssueCertificate',
    service: 'acm-pca',
    operations: ['IssueCertificate'],
    perSecond: 25,
    source: PCA,
  },
  {
    name: 'acm-pca:GetCertificate',
    service: 'acm-pca',
    operations: ['GetCertificate'],
    perSecond: 75,
    source: PCA,
  },
  // [SQ] L-8842A328 RevokeCertificate 20, not adjustable (was 25 here).
  {
    name: 'acm-pca:RevokeCertificate',
    service: 'acm-pca',
    operations: ['RevokeCertificate'],
    perSecond: 20,
    source: PCA,
  },
  // AWS IoT Core control plane, "<Operation> API TPS" per account.
  // [SQ] and [TP]: CreateThing 100, AttachThingPrincipal 100, DescribeThing 350 (were 15, 15, 350).
  iot('CreateThing', 100),
  iot('DescribeThing', 350),
  iot('AttachThingPrincipal', 100),
  // [SQ] DetachThingPrincipal 100 (was 15), ListThingPrincipals 10, ListPrincipalThings 10.
  iot('DetachThingPrincipal', 100),
  iot('ListThingPrincipals', 10),
  iot('ListPrincipalThings', 10),
  // [TP] AttachPolicy 15, GetPolicy 10 (was 15), DescribeCertificate 10.
  iot('AttachPolicy', 15),
  iot('GetPolicy', 10),
  iot('DescribeCertificate', 10),
  // Not confirmed: DetachPolicy, the policy-version and policy-target operations, UpdateCertificate,
  // RegisterCertificate, DescribeCACertificate, CreateJob (Service Quotas lists UpdateCertificate,
  // L-77B523DC, but no copy of its value was found).
  iot('DetachPolicy', 15),
  iot('CreatePolicy', 10),
  iot('CreatePolicyVersion', 10),
  iot('DeletePolicyVersion', 10),
  iot('ListPolicyVersions', 10),
  iot('ListTargetsForPolicy', 10),
  iot('GetEffectivePolicies', 10),
  iot('UpdateCertificate', 15),
  iot('RegisterCertificate', 10),
  iot('DescribeCACertificate', 10),
  // [SQ] and [TP]: AddThingToThingGroup 100 (was 60); [SQ] RemoveThingFromThingGroup 100 (was 60),
  // ListThingGroupsForThing 100 (was 10).
  iot('AddThingToThingGroup', 100),
  iot('RemoveThingFromThingGroup', 100),
  iot('ListThingGroupsForThing', 100),
  iot('CreateJob', 10),
  // AWS IoT Core message broker, per account. [IB] connect requests 500/s and inbound publishes
  // 20,000/s (adjustable); some copies give 2,000 inbound publishes for smaller Regions, and
  // which Regions have 20,000 (eu-west-1 assumed) is not confirmed.
  {
    name: 'iot-broker:Connect',
    service: 'iot-broker',
    operations: ['Connect'],
    perSecond: 500,
    source: IOT_BROKER,
  },
  {
    name: 'iot-broker:PublishIn',
    service: 'iot-broker',
    operations: ['PublishIn'],
    perSecond: 20_000,
    source: IOT_BROKER,
  },
  // The data plane's HTTP Publish is an inbound publish to the broker: same account quota.
  {
    name: 'iotdata:Publish',
    service: 'iotdata',
    operations: ['Publish'],
    perSecond: 20_000,
    source: IOT_BROKER,
  },
  // AWS KMS, shared quotas per account and Region. Symmetric: the current page (docs corpus,
  // translated copies) gives 10,000 shared, 20,000 in a list of Regions, and the list of the
  // highest tier is cut off; 100,000 for eu-west-1 is not confirmed. [KD] ECC Sign/Verify 300
  // (shared), GetPublicKey 2,000.
  {
    name: 'kms:symmetric',
    service: 'kms',
    operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt'],
    perSecond: 100_000,
    source: KMS,
  },
  {
    name: 'kms:ecc',
    service: 'kms',
    operations: ['Sign', 'Verify'],
    perSecond: 300,
    source: KMS,
  },
  {
    name: 'kms:GetPublicKey',
    service: 'kms',
    operations: ['GetPublicKey'],
    perSecond: 2_000,
    source: KMS,
  },
  // SSM Parameter Store, GetParameter at standard throughput: 40 not confirmed.
  {
    name: 'ssm:GetParameter',
    service: 'ssm',
    operations: ['GetParameter', 'GetParameters'],
    perSecond: 40,
    source: SSM,
  },
];

/** Lambda concurrent executions per account and Region (default, adjustable; [SQ] L-B99A9384 1,000). */
export const LAMBDA_CONCURRENCY = {
  limit: 1_000,
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
} as const;

export interface QuotaOptions {
  /** Quota seconds per real second (default 1). */
  readonly timeScale?: number;
  /** The quotas (default {@link AWS_DEFAULT_QUOTAS}). */
  readonly quotas?: readonly QuotaSpec[];
  /** Replace some quotas' rates by name (e.g. an approved increase). */
  readonly overrides?: Readonly<Record<string, number>>;
  /** Service latency in quota milliseconds, by `service:operation` or `service` (default none). */
  readonly latencyMs?: Readonly<Record<string, number>>;
  /** The clock, in real milliseconds (tests). */
  readonly now?: () => number;
}

/** Counters of one quota; `perSecond` holds admitted calls by real second since the start. */
export interface QuotaStats {
  readonly spec: QuotaSpec;
  allowed: number;
  throttled: number;
  readonly admittedBySecond: number[];
  readonly throttledBySecond: number[];
}

interface Bucket {
  readonly stats: QuotaStats;
  /** Requests per real second (the quota's rate x the time scale). */
  readonly ratePerSecond: number;
  readonly capacity: number;
  tokens: number;
  last: number;
}

/**
 * Token buckets, one per quota: capacity one quota second of requests, refilled continuously
 * at `perSecond x timeScale` per real second.
 * @example const q = new QuotaEnforcer({ timeScale: 10 }); q.admit('kms', 'Sign'); // true or false
 */
export class QuotaEnforcer {
  readonly timeScale: number;
  readonly startedAt: number;
  private readonly now: () => number;
  private readonly byOperation = new Map<string, Bucket>();
  private readonly buckets: Bucket[] = [];
  private readonly latency: Readonly<Record<string, number>>;
  /** Throttled calls by `service:operation` (the calls the service refused, not served). */
  readonly throttledCalls = new Map<string, number>();

  constructor(options: QuotaOptions = {}) {
    const scale = options.timeScale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError('timeScale must be a positive number');
    this.timeScale = scale;
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.latency = options.latencyMs ?? {};
    for (const spec of options.quotas ?? AWS_DEFAULT_QUOTAS) {
      const perSecond = options.overrides?.[spec.name] ?? spec.perSecond;
      const effective = { ...spec, perSecond };
      const capacity = Math.max(1, perSecond * scale);
      const bucket: Bucket = {
        stats: { spec: effective, allowed: 0, throttled: 0, admittedBySecond: [], throttledBySecond: [] },
        ratePerSecond: perSecond * scale,
        capacity,
        tokens: capacity,
        last: this.startedAt,
      };
      this.buckets.push(bucket);
      for (const op of spec.operations) this.byOperation.set(`${spec.service}:${op}`, bucket);
    }
  }

  /** The quota covering a call, if any. */
  quotaOf(service: string, operation: string | undefined): QuotaSpec | undefined {
    return operation ? this.byOperation.get(`${service}:${operation}`)?.stats.spec : undefined;
  }

  /** Takes one token for the call; false when its quota is exhausted (the call must be throttled). */
  admit(service: string, operation: string | undefined): boolean {
    const bucket = operation ? this.byOperation.get(`${service}:${operation}`) : undefined;
    if (!bucket) return true;
    const now = this.now();
    // Multiply before dividing: elapsed ms x rate / 1000 is exact for whole rates (1000 x 1.015 is not 1015).
    bucket.tokens = Math.min(
      bucket.capacity,
      bucket.tokens + ((now - bucket.last) * bucket.ratePerSecond) / 1000,
    );
    bucket.last = now;
    const second = Math.max(0, Math.floor((now - this.startedAt) / 1000));
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.stats.allowed += 1;
      bucket.stats.admittedBySecond[second] = (bucket.stats.admittedBySecond[second] ?? 0) + 1;
      return true;
    }
    bucket.stats.throttled += 1;
    this.throttledCalls.set(
      `${service}:${operation}`,
      (this.throttledCalls.get(`${service}:${operation}`) ?? 0) + 1,
    );
    bucket.stats.throttledBySecond[second] = (bucket.stats.throttledBySecond[second] ?? 0) + 1;
    return false;
  }

  /** Real milliseconds to delay a call by (its modelled latency over the time scale). */
  delayMs(service: string, operation: string | undefined): number {
    const ms =
      (operation ? this.latency[`${service}:${operation}`] : undefined) ?? this.latency[service] ?? 0;
    return ms / this.timeScale;
  }

  /** Counters of every quota, in declaration order. */
  stats(): readonly QuotaStats[] {
    return this.buckets.map((b) => b.stats);
  }
}

/**
 * The throttling error each service answers with (API references, "Errors"): awsJson
 * `ThrottlingException` (HTTP 400) for KMS, Private CA and SSM; restJson1 `ThrottlingException`
 * with HTTP 400 for the IoT control plane and 429 for the IoT data plane.
 */
export function throttlingError(service: string): AwsApiError {
  switch (service) {
    case 'kms':
      return new AwsApiError('ThrottlingException', 'You have exceeded the rate at which you may call KMS.');
    case 'iotdata':
      return new AwsApiError('ThrottlingException', 'Rate exceeded', 429);
    default:
      return new AwsApiError('ThrottlingException', 'Rate exceeded', 400);
  }
}

/**
 * The hook of the request path: admits the call or returns the throttling error to answer,
 * after the modelled latency.
 */
export async function gateCall(
  enforcer: QuotaEnforcer | undefined,
  service: string,
  operation: string | undefined,
): Promise<AwsApiError | undefined> {
  if (!enforcer) return undefined;
  const delay = enforcer.delayMs(service, operation);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  return enforcer.admit(service, operation) ? undefined : throttlingError(service);
}

/** restJson1 routes of the quota'd operations (the IoT control and data planes). */
const REST_OPERATIONS: readonly (readonly [string, string, string, string])[] = [
  ['iot', 'POST', '/things/{thingName}', 'CreateThing'],
  ['iot', 'GET', '/things/{thingName}', 'DescribeThing'],
  ['iot', 'PUT', '/things/{thingName}/principals', 'AttachThingPrincipal'],
  ['iot', 'GET', '/things/{thingName}/principals', 'ListThingPrincipals'],
  ['iot', 'DELETE', '/things/{thingName}/principals', 'DetachThingPrincipal'],
  ['iot', 'GET', '/principals/things', 'ListPrincipalThings'],
  ['iot', 'GET', '/things/{thingName}/thing-groups', 'ListThingGroupsForThing'],
  ['iot', 'GET', '/certificates/{certificateId}', 'DescribeCertificate'],
  ['iot', 'PUT', '/certificates/{certificateId}', 'UpdateCertificate'],
  ['iot', 'POST', '/certificate/register', 'RegisterCertificate'],
  ['iot', 'GET', '/cacertificate/{certificateId}', 'DescribeCACertificate'],
  ['iot', 'POST', '/policies/{policyName}', 'CreatePolicy'],
  ['iot', 'GET', '/policies/{policyName}', 'GetPolicy'],
  ['iot', 'POST', '/policies/{policyName}/version', 'CreatePolicyVersion'],
  ['iot', 'GET', '/policies/{policyName}/version', 'ListPolicyVersions'],
  ['iot', 'DELETE', '/policies/{policyName}/version/{policyVersionId}', 'DeletePolicyVersion'],
  ['iot', 'PUT', '/target-policies/{policyName}', 'AttachPolicy'],
  ['iot', 'POST', '/target-policies/{policyName}', 'DetachPolicy'],
  ['iot', 'POST', '/policy-targets/{policyName}', 'ListTargetsForPolicy'],
  ['iot', 'POST', '/effective-policies', 'GetEffectivePolicies'],
  ['iot', 'PUT', '/thing-groups/addThingToThingGroup', 'AddThingToThingGroup'],
  ['iot', 'PUT', '/thing-groups/removeThingFromThingGroup', 'RemoveThingFromThingGroup'],
  ['iot', 'PUT', '/jobs/{jobId}', 'CreateJob'],
  ['iotdata', 'POST', '/topics/{topic}', 'Publish'],
];

/** The operation of a restJson1 request, for the quota'd routes (undefined otherwise). */
export function restOperation(service: string, method: string, path: string): string | undefined {
  for (const [s, m, template, name] of REST_OPERATIONS) {
    if (s === service && m === method && matchPath(template, path)) return name;
  }
  return undefined;
}
