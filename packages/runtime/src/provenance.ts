/**
 * Finding provenance: the record a detector of this stack writes, before it imports a Security Hub finding, into the
 * provenance table (`FINDING_PROVENANCE_TABLE`, pk `findingId`), and that the remediation workflow reads to prove a
 * finding which claims to be ours is genuine. Anyone allowed `securityhub:BatchImportFindings` can import a finding
 * that looks like ours; only the detector's role can write this table (and, by an IAM `dynamodb:LeadingKeys`
 * condition, only keys under its own GeneratorId). Generic: any detector (authz-detector, a future behaviour
 * detector) writes the same record shape under its own GeneratorId prefix.
 *
 * The item is plain DynamoDB attribute-value JSON, so this module needs no AWS SDK.
 */

/** The resources a finding names, as the remediation plan names them. */
export interface ProvenanceTargets {
  thingName?: string;
  certificateId?: string;
  caCertificateId?: string;
  policyName?: string;
  policyVersionId?: string;
}

export interface FindingProvenance {
  /** The finding's `Id`; starts with `<generatorId>/`. */
  findingId: string;
  generatorId: string;
  productArn: string;
  accountId: string;
  /** Exactly the resources the finding names; the workflow acts only when its plan names the same ones. */
  targets: ProvenanceTargets;
  /** ISO-8601. */
  raisedAt: string;
}

const TARGET_KEYS = [
  'thingName',
  'certificateId',
  'caCertificateId',
  'policyName',
  'policyVersionId',
] as const;

type AttributeValue = { S: string } | { N: string } | { M: Record<string, { S: string }> };

/**
 * The DynamoDB item for a provenance record (`ttl`: epoch seconds after which DynamoDB may delete it).
 * @example await ddb.send(new PutItemCommand({ TableName, Item: provenanceItem(record, ttl) }));
 */
export function provenanceItem(record: FindingProvenance, ttl: number): Record<string, AttributeValue> {
  const targets: Record<string, { S: string }> = {};
  for (const key of TARGET_KEYS) {
    const value = record.targets[key];
    if (value !== undefined) targets[key] = { S: value };
  }
  return {
    findingId: { S: record.findingId },
    generatorId: { S: record.generatorId },
    productArn: { S: record.productArn },
    accountId: { S: record.accountId },
    targets: { M: targets },
    raisedAt: { S: record.raisedAt },
    ttl: { N: String(ttl) },
  };
}

/**
 * Reads a provenance item back; `undefined` for anything that is not a complete record (treated as no record).
 * @example const record = parseProvenanceItem(out.Item);
 */
export function parseProvenanceItem(item: unknown): FindingProvenance | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const it = item as Record<string, { S?: unknown; M?: unknown } | undefined>;
  const str = (name: string) => (typeof it[name]?.S === 'string' ? (it[name]?.S as string) : undefined);
  const [findingId, generatorId, productArn, accountId, raisedAt] = [
    'findingId',
    'generatorId',
    'productArn',
    'accountId',
    'raisedAt',
  ].map(str);
  const map = it.targets?.M;
  if (
    findingId === undefined ||
    generatorId === undefined ||
    productArn === undefined ||
    accountId === undefined ||
    raisedAt === undefined ||
    typeof map !== 'object' ||
    map === null
  ) {
    return undefined;
  }
  const targets: ProvenanceTargets = {};
  for (const [key, value] of Object.entries(map as Record<string, { S?: unknown }>)) {
    if (!(TARGET_KEYS as readonly string[]).includes(key) || typeof value?.S !== 'string') return undefined;
    targets[key as (typeof TARGET_KEYS)[number]] = value.S;
  }
  return { findingId, generatorId, productArn, accountId, targets, raisedAt };
}

/**
 * Whether two target sets name exactly the same resources (a key absent on one side must be absent on the other).
 * @example sameTargets({ certificateId: 'ab' }, { certificateId: 'ab' }) // true
 */
export function sameTargets(a: ProvenanceTargets, b: ProvenanceTargets): boolean {
  return TARGET_KEYS.every((key) => a[key] === b[key]);
}
