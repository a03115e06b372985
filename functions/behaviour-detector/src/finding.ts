import type { Behaviour } from './model.js';

/** GeneratorId of this detector's findings (the remediation classifier recognises the `cv-security/` prefix). */
export const GENERATOR_ID = 'cv-security/behaviour-detector';

/** What a finding says: the behaviour, the metric, the observed value, the baseline and the threshold. */
export interface BehaviourFinding {
  behaviour: Behaviour;
  thingName: string;
  role: string;
  /** Only for CLONED_IDENTITY: the certificate both holders use, the one remediation cuts off. */
  certificateId?: string;
  metric: string;
  observed: number;
  threshold: number;
  baseline: string;
  sourceIps: string[];
  /** Epoch ms. */
  firstObservedAt: number;
  lastObservedAt: number;
}

const SEVERITY: Readonly<Record<Behaviour, 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL'>> = {
  CLONED_IDENTITY: 'CRITICAL',
  RECONNECT_LOOP: 'LOW',
  MESSAGE_SIZE_JUMP: 'MEDIUM',
  MESSAGE_FLOOD: 'MEDIUM',
  DATA_VOLUME: 'MEDIUM',
  COMMAND_FLOOD: 'MEDIUM',
  AUTHORIZATION_PROBING: 'HIGH',
};

/**
 * Deterministic finding Id: `<GeneratorId>/<behaviour>/<thingName>/<first observed ISO>`. The behaviour is part of
 * the Id, which the provenance record binds: the remediation playbook reads the behaviour from the Id, so a
 * look-alike import cannot turn a notify-only finding into a quarantining one by editing its fields.
 */
export function findingId(behaviour: Behaviour, thingName: string, firstObservedAt: number): string {
  return `${GENERATOR_ID}/${behaviour}/${thingName}/${new Date(firstObservedAt).toISOString()}`;
}

export function productArnOf(c: { partition: string; region: string; accountId: string }): string {
  return `arn:${c.partition}:securityhub:${c.region}:${c.accountId}:product/${c.accountId}/default`;
}

/** The ASFF finding imported into the account's own Security Hub product. */
export function buildFinding(
  f: BehaviourFinding,
  c: { partition: string; region: string; accountId: string; now: Date },
): Record<string, unknown> {
  const thingArn = `arn:${c.partition}:iot:${c.region}:${c.accountId}:thing/${f.thingName}`;
  const resources: Record<string, unknown>[] = [
    {
      Type: 'AwsIotThing',
      Id: thingArn,
      Partition: c.partition,
      Region: c.region,
      Details: { Other: { ThingName: f.thingName, Role: f.role } },
    },
  ];
  if (f.certificateId !== undefined) {
    resources.push({
      Type: 'AwsIotCertificate',
      Id: `arn:${c.partition}:iot:${c.region}:${c.accountId}:cert/${f.certificateId}`,
      Partition: c.partition,
      Region: c.region,
      Details: { Other: { CertificateId: f.certificateId } },
    });
  }
  const id = findingId(f.behaviour, f.thingName, f.firstObservedAt);
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: productArnOf(c),
    GeneratorId: GENERATOR_ID,
    AwsAccountId: c.accountId,
    Types: [`Unusual Behaviors/Application/ECU ${f.behaviour.toLowerCase().replaceAll('_', ' ')}`],
    CreatedAt: c.now.toISOString(),
    UpdatedAt: c.now.toISOString(),
    FirstObservedAt: new Date(f.firstObservedAt).toISOString(),
    LastObservedAt: new Date(f.lastObservedAt).toISOString(),
    Severity: { Label: SEVERITY[f.behaviour] },
    Title: `${f.behaviour} on ECU ${f.thingName}`.slice(0, 256),
    Description:
      `${f.role} ECU ${f.thingName}: ${f.metric} ${f.observed} above threshold ${f.threshold} (baseline: ${f.baseline}).`.slice(
        0,
        1024,
      ),
    ProductFields: {
      'cv/Check': f.behaviour,
      'cv/Metric': f.metric,
      'cv/Observed': String(f.observed),
      'cv/Threshold': String(f.threshold),
      'cv/Baseline': f.baseline.slice(0, 256),
      'cv/Role': f.role,
      'cv/SourceIps': f.sourceIps.slice(0, 5).join(',') || 'none',
      ThingName: f.thingName,
      ...(f.certificateId === undefined ? {} : { DeviceCertificateId: f.certificateId }),
    },
    Resources: resources,
    RecordState: 'ACTIVE',
  };
}
