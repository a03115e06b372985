/**
 * AWS's default request-rate quotas (eu-west-1, the project's region) for every API the
 * functions call: the data the {@link QuotaEnforcer} of `quotas.ts` enforces.
 *
 * Each entry records the value, the AWS page that publishes it (`source`), the Service Quotas
 * code where known, whether AWS marks it adjustable (absent: no stored copy says), and where
 * the number itself was seen (`evidence`). Checked in December 2026 against the reference
 * corpus, whose copies of the AWS pages show only their openings, not the quota tables; so the
 * numbers come from copies of those tables:
 * - [SQ]: a public dump of the Service Quotas API's defaults ("Quota Name | Quota Code | Quota
 *   Value | ... | Adjustable?"), found by exact-string search (the index names no repository);
 * - [DG19]: the archived AWS IoT Developer Guide page "AWS IoT Limits" (awsdocs/aws-iot-docs,
 *   developerguide/limits-iot.md at b946d0b, 25 November 2019), whose "AWS IoT Throttling
 *   Limits" table lists "API | Transactions per Second" with no adjustable column. The page now
 *   points to the General Reference; no newer copy of that table was found. Its registry rows
 *   have since gone up (CreateThing 15 then, 100 in [SQ]), so its other rows may be low;
 * - [TP]: aws-iot-builder-tools/thingpress, doc/aws-api-limits.md ("last checked on 6/13/2025"),
 *   which sends readers to the General Reference's "Adjustable" column to raise them;
 * - [KMS]: the current KMS "Request quotas" page, as Markdown source in a public repository
 *   (it lists the ML-DSA quota, so 2025 or later) and as a proxied copy in the pages corpus
 *   (docs---aws.amazon.com.rproxy.goskope.com); both say "All AWS KMS request quotas are
 *   adjustable, except for the AWS CloudHSM key store request quota";
 * - [CODES]: a public list of Service Quotas codes for AWS IoT Core (names and codes, no values).
 * An account may have other values: check Service Quotas before relying on any of them.
 */

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
  /** The AWS page that publishes the value. */
  readonly source: string;
  /** Service Quotas quota code, where known. */
  readonly quotaCode?: string;
  /** Whether AWS marks the quota adjustable; absent where no stored copy says. */
  readonly adjustable?: boolean;
  /** Where the number was seen and what that copy says, or that none was found. */
  readonly evidence?: string;
}

const PCA = 'https://docs.aws.amazon.com/general/latest/gr/pca.html#limits_pca';
const IOT_API = 'https://docs.aws.amazon.com/general/latest/gr/iot-core.html#throttling-limits';
const IOT_BROKER = 'https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits';
const IOT_JOBS =
  'https://docs.aws.amazon.com/general/latest/gr/iot_device_management.html#iot_device_management_quotas';
const KMS = 'https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html';
const SSM = 'https://docs.aws.amazon.com/general/latest/gr/ssm.html#limits_ssm';

/** [DG19]'s row for an operation, as the page has it. */
const DG19 = (tps: number) => (op: string) => `[DG19] "| ${op} | ${tps} |" (2019); no current copy found`;

interface IotExtra {
  readonly code?: string;
  readonly adjustable?: boolean;
  readonly source?: string;
}
const iot = (
  operation: string,
  perSecond: number,
  evidence: string | ((op: string) => string),
  extra: IotExtra = {},
): QuotaSpec => ({
  name: `iot:${operation}`,
  service: 'iot',
  operations: [operation],
  perSecond,
  source: extra.source ?? IOT_API,
  ...(extra.code === undefined ? {} : { quotaCode: extra.code }),
  ...(extra.adjustable === undefined ? {} : { adjustable: extra.adjustable }),
  evidence: typeof evidence === 'string' ? evidence : evidence(operation),
});

/** The quotas of every API the functions call (see each function's adapters). */
export const AWS_DEFAULT_QUOTAS: readonly QuotaSpec[] = [
  // AWS Private CA, "Rate of <Operation> requests" per account and Region.
  {
    name: 'acm-pca:IssueCertificate',
    service: 'acm-pca',
    operations: ['IssueCertificate'],
    perSecond: 25,
    source: PCA,
    quotaCode: 'L-CAFB4993',
    adjustable: true,
    evidence: '[SQ] "Rate of IssueCertificate requests | L-CAFB4993 | 25.0", adjustable True',
  },
  {
    name: 'acm-pca:GetCertificate',
    service: 'acm-pca',
    operations: ['GetCertificate'],
    perSecond: 75,
    source: PCA,
    quotaCode: 'L-1725E639',
    adjustable: true,
    evidence: '[SQ] "Rate of GetCertificate requests | L-1725E639 | 75.0", adjustable True',
  },
  {
    name: 'acm-pca:RevokeCertificate',
    service: 'acm-pca',
    operations: ['RevokeCertificate'],
    perSecond: 20,
    source: PCA,
    quotaCode: 'L-8842A328',
    adjustable: false,
    evidence: '[SQ] "Rate of RevokeCertificate requests | L-8842A328 | 20.0", adjustable False',
  },
  // AWS IoT Core control plane, "<Operation> API TPS" per account and Region.
  iot('CreateThing', 100, '[SQ] 100.0, adjustable True; [TP] 100 (2025)', {
    code: 'L-64CBACAC',
    adjustable: true,
  }),
  iot('DescribeThing', 350, '[SQ] 350.0, adjustable True; [TP] 350 (2025)', {
    code: 'L-0EF0F5EE',
    adjustable: true,
  }),
  iot('AttachThingPrincipal', 100, '[SQ] 100.0, adjustable True; [TP] 100 (2025)', {
    code: 'L-F64D1AA6',
    adjustable: true,
  }),
  iot('DetachThingPrincipal', 100, '[SQ] 100.0, adjustable True', { code: 'L-B5EE4A16', adjustable: true }),
  iot('ListThingPrincipals', 10, '[SQ] 10.0, adjustable True', { code: 'L-FC3EF4D9', adjustable: true }),
  iot('ListPrincipalThings', 10, '[SQ] 10.0, adjustable True', { code: 'L-C481616A', adjustable: true }),
  iot('AddThingToThingGroup', 100, '[SQ] 100.0, adjustable True; [TP] 100 (2025)', {
    code: 'L-2904683A',
    adjustable: true,
  }),
  iot('RemoveThingFromThingGroup', 100, '[SQ] 100.0, adjustable True', {
    code: 'L-2A81A394',
    adjustable: true,
  }),
  iot('ListThingGroupsForThing', 100, '[SQ] 100.0, adjustable True', {
    code: 'L-75F129AD',
    adjustable: true,
  }),
  // Certificate and policy operations, not in [SQ] (quota codes from [CODES]): [TP] (2025) gives
  // AttachPolicy 15, GetPolicy 10 and DescribeCertificate 10, as [DG19] did in 2019, and
  // RegisterCertificateWithoutCA 10 (an API newer than [DG19]; no function calls it today).
  iot('AttachPolicy', 15, '[TP] 15 (2025); [DG19] 15 (2019)', { code: 'L-CA7D4E3E', adjustable: true }),
  iot('GetPolicy', 10, '[TP] 10 (2025); [DG19] 10 (2019)', { code: 'L-5CE9072D' }),
  iot('DescribeCertificate', 10, '[TP] 10 (2025); [DG19] 10 (2019)', {
    code: 'L-FC864907',
    adjustable: true,
  }),
  iot('RegisterCertificateWithoutCA', 10, '[TP] 10 (2025); not in [DG19]', {
    code: 'L-4671C7C8',
    adjustable: true,
  }),
  // Only [DG19] has these: the 2019 values, the best stored evidence, not confirmed as today's.
  // UpdateCertificate was 15 here with no source; [DG19] says 10.
  iot('UpdateCertificate', 10, DG19(10), { code: 'L-77B523DC' }),
  iot('DetachPolicy', 15, DG19(15), { code: 'L-EC88D510' }),
  iot('RegisterCertificate', 10, DG19(10), { code: 'L-8C0011A3' }),
  iot('DescribeCACertificate', 10, DG19(10), { code: 'L-E72BB356' }),
  iot('CreatePolicy', 10, DG19(10), { code: 'L-1B2EEF52' }),
  iot('CreatePolicyVersion', 10, DG19(10), { code: 'L-BD4A365E' }),
  iot('DeletePolicyVersion', 10, DG19(10), { code: 'L-2990EF9F' }),
  iot('ListPolicyVersions', 10, DG19(10), { code: 'L-E67DF416' }),
  iot('ListTargetsForPolicy', 10, DG19(10), { code: 'L-D7C50543' }),
  // GetEffectivePolicies was 10 here with no source; [DG19] says 50.
  iot('GetEffectivePolicies', 50, DG19(50), { code: 'L-CE45290D' }),
  // IoT Jobs is part of IoT Device Management, whose quotas the IoT Developer Guide's quota page
  // (2022 copy) sends to this page; [CODES] (AWS IoT Core) has no CreateJob code.
  iot('CreateJob', 10, DG19(10), { source: IOT_JOBS }),
  // AWS IoT Core message broker, per account. Some copies give 2,000 inbound publishes for
  // smaller Regions; which Regions have 20,000 (eu-west-1 assumed) is not confirmed.
  {
    name: 'iot-broker:Connect',
    service: 'iot-broker',
    operations: ['Connect'],
    perSecond: 500,
    source: IOT_BROKER,
    quotaCode: 'L-AEA1E176',
    adjustable: true,
    evidence:
      '[DG19] "Connect requests per second per account | ... | 500 | Yes"; copies of the current ' +
      'message broker table: 500, adjustable Yes',
  },
  {
    name: 'iot-broker:PublishIn',
    service: 'iot-broker',
    operations: ['PublishIn'],
    perSecond: 20_000,
    source: IOT_BROKER,
    quotaCode: 'L-4B33E451',
    adjustable: true,
    evidence:
      '[DG19] "Inbound publish requests per second per account | ... | 20,000 | Yes"; some later ' +
      'copies say 2,000 for some Regions; eu-west-1 not confirmed',
  },
  // The data plane's HTTP Publish is an inbound publish to the broker: same account quota.
  {
    name: 'iotdata:Publish',
    service: 'iotdata',
    operations: ['Publish'],
    perSecond: 20_000,
    source: IOT_BROKER,
    quotaCode: 'L-4B33E451',
    adjustable: true,
    evidence: 'the inbound publish quota above (an HTTP Publish is an inbound publish)',
  },
  // AWS KMS, shared quotas per account and Region.
  {
    name: 'kms:symmetric',
    service: 'kms',
    operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt'],
    perSecond: 100_000,
    source: KMS,
    adjustable: true,
    evidence:
      '[KMS] "Cryptographic operations (symmetric) request rate": "10,000 (shared)", "20,000 ' +
      '(shared)" in six Regions, "100,000 (shared) in the following Regions: US East (N. ' +
      'Virginia), us-east-1 US West (Oregon), us-west-2 Europe (Ireland), eu-west-1"',
  },
  {
    name: 'kms:ecc',
    service: 'kms',
    operations: ['Sign', 'Verify'],
    perSecond: 1_000,
    source: KMS,
    adjustable: true,
    evidence:
      '[KMS] "Cryptographic operations (ECC and SM2) request rate" for Sign and Verify: "1,000 ' +
      '(shared) for elliptic curve (ECC) and SM2 (China Regions only) KMS keys" (was 300 here, ' +
      'from the archived awsdocs/aws-kms-developer-guide and pre-2025 copies)',
  },
  {
    name: 'kms:GetPublicKey',
    service: 'kms',
    operations: ['GetPublicKey'],
    perSecond: 2_000,
    source: KMS,
    adjustable: true,
    evidence: '[KMS] "GetPublicKey request rate | 2000"',
  },
  // SSM Parameter Store, standard throughput (the default). Higher throughput is a paid
  // account setting (`/ssm/parameter-store/high-throughput-enabled`), not the default: 3,000
  // shared by GetParameter and GetParameters in the 2022 quote below (a 2025 third-party
  // summary gives 10,000 GetParameter and 1,000 GetParameters; neither is an AWS copy).
  {
    name: 'ssm:GetParameter',
    service: 'ssm',
    operations: ['GetParameter', 'GetParameters'],
    perSecond: 40,
    source: SSM,
    evidence:
      'no copy of the page found; an article of 2 September 2022 (dev.classmethod.jp, docs ' +
      'corpus) quotes it (in Japanese): default throughput 40, shared by GetParameter, ' +
      'GetParameters, GetParametersByPath',
  },
];

/** Lambda concurrent executions per account and Region (default, adjustable; [SQ] L-B99A9384 1,000). */
export const LAMBDA_CONCURRENCY = {
  limit: 1_000,
  source: 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html',
} as const;
