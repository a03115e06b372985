/** GeneratorId of our findings: the remediation rule and classifier recognise the `cv-security/` prefix. */
export const GENERATOR_ID = 'cv-security/authz-detector';

export interface FindingInput {
  region: string;
  accountId: string;
  partition: string;
  certificateId: string;
  windowSeconds: number;
  count: number;
  threshold: number;
  eventTypes: string[];
  clientIds: string[];
  sourceIps: string[];
  firstObservedAt: Date;
  lastObservedAt: Date;
  now: Date;
}

/**
 * Deterministic finding Id, per certificate and first failure (epoch ms): a retried import updates the same
 * finding instead of adding one. It starts with `<GeneratorId>/`, the prefix of the provenance keys the detector
 * may write.
 */
export function findingId(certificateId: string, firstFailureAt: number): string {
  return `${GENERATOR_ID}/${certificateId}/${new Date(firstFailureAt).toISOString()}`;
}

/** The account's own Security Hub product, the only one the detector imports into. */
export function productArnOf(c: { partition: string; region: string; accountId: string }): string {
  return `arn:${c.partition}:securityhub:${c.region}:${c.accountId}:product/${c.accountId}/default`;
}

/**
 * The ASFF finding imported into the account's own Security Hub product
 * (`arn:<partition>:securityhub:<region>:<account>:product/<account>/default`). It names the certificate the
 * failing connections authenticated with: the client id is only claimed, so it is context, never the target.
 */
export function buildFinding(input: FindingInput): Record<string, unknown> {
  const { region, accountId, partition, certificateId } = input;
  const productArn = productArnOf(input);
  const certArn = `arn:${partition}:iot:${region}:${accountId}:cert/${certificateId}`;
  const clients = input.clientIds.slice(0, 5).join(', ') || 'none';
  return {
    SchemaVersion: '2018-10-08',
    Id: findingId(certificateId, input.firstObservedAt.getTime()),
    ProductArn: productArn,
    GeneratorId: GENERATOR_ID,
    AwsAccountId: accountId,
    Types: ['Unusual Behaviors/Application/AWS IoT authorization failures'],
    CreatedAt: input.now.toISOString(),
    UpdatedAt: input.now.toISOString(),
    FirstObservedAt: input.firstObservedAt.toISOString(),
    LastObservedAt: input.lastObservedAt.toISOString(),
    Severity: { Label: 'HIGH' },
    Title: `Repeated AWS IoT authorization failures by certificate ${certificateId.slice(0, 16)}`,
    Description:
      `${input.count} authorization failures (${input.eventTypes.join(', ')}) within ${input.windowSeconds} s by device certificate ${certificateId} (threshold ${input.threshold}). Client ids claimed: ${clients}.`.slice(
        0,
        1024,
      ),
    ProductFields: {
      'cv/Check': 'AUTHORIZATION_FAILURES',
      DeviceCertificateId: certificateId,
      'cv/FailureCount': String(input.count),
      'cv/Threshold': String(input.threshold),
      'cv/WindowSeconds': String(input.windowSeconds),
      'cv/EventTypes': input.eventTypes.join(','),
      'cv/ClaimedClientIds': clients,
      'cv/SourceIps': input.sourceIps.slice(0, 5).join(',') || 'none',
    },
    Resources: [
      {
        Type: 'AwsIotCertificate',
        Id: certArn,
        Partition: partition,
        Region: region,
        Details: { Other: { CertificateId: certificateId } },
      },
    ],
    RecordState: 'ACTIVE',
  };
}
