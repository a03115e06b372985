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
 * The quota values, each with its source page and where the number was seen, are in
 * `aws-quotas.ts`.
 */
import { AWS_DEFAULT_QUOTAS, type QuotaSpec } from './aws-quotas.js';
import { AwsApiError } from './errors.js';
import { matchPath } from './wire.js';

export { AWS_DEFAULT_QUOTAS, LAMBDA_CONCURRENCY, type QuotaSpec } from './aws-quotas.js';

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
    const quotas = options.quotas ?? AWS_DEFAULT_QUOTAS;
    // A misspelt override would otherwise leave the published value in force without a word.
    for (const name of Object.keys(options.overrides ?? {})) {
      if (!quotas.some((q) => q.name === name)) throw new RangeError(`override of an unknown quota: ${name}`);
    }
    for (const spec of quotas) {
      const perSecond = options.overrides?.[spec.name] ?? spec.perSecond;
      if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
        throw new RangeError(`${spec.name}: the rate must be a positive number`);
      }
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
      for (const op of spec.operations) {
        const key = `${spec.service}:${op}`;
        // One bucket per call: a second quota for the same operation would silently replace the first.
        const other = this.byOperation.get(key);
        if (other) throw new RangeError(`${key} is in two quotas (${other.stats.spec.name}, ${spec.name})`);
        this.byOperation.set(key, bucket);
      }
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
  ['iot', 'POST', '/certificate/register-no-ca', 'RegisterCertificateWithoutCA'],
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
