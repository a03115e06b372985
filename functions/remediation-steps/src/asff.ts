import { z } from 'zod';

/**
 * The subset of the AWS Security Finding Format (ASFF) the classifier reads, as Security Hub delivers AWS IoT
 * Device Defender audit findings, audit check summaries and Detect violations (and our own authz-detector
 * findings) in `detail.findings[]` of an EventBridge "Security Hub Findings - Imported" event.
 */
const Text = (max: number) => z.string().max(max);

export const AsffResourceSchema = z.object({
  Type: Text(256).min(1),
  Id: Text(512).min(1),
  Partition: Text(32).optional(),
  Region: Text(32).optional(),
  Details: z.object({ Other: z.record(z.string().max(128), Text(1024)).optional() }).optional(),
});

export const AsffFindingSchema = z.object({
  SchemaVersion: z.literal('2018-10-08'),
  Id: Text(512).min(1),
  ProductArn: Text(512).min(1),
  GeneratorId: Text(512).min(1),
  AwsAccountId: z.string().regex(/^\d{12}$/),
  Region: Text(32).optional(),
  Types: z.array(Text(256)).max(50).optional(),
  CreatedAt: Text(64),
  UpdatedAt: Text(64),
  Severity: z.object({ Label: z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).optional() }),
  Title: Text(256),
  Description: Text(1024),
  ProductFields: z.record(z.string().max(128), Text(2048)).optional(),
  Resources: z.array(AsffResourceSchema).min(1).max(32),
  Workflow: z.object({ Status: z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']) }).optional(),
  WorkflowState: Text(32).optional(),
  RecordState: z.enum(['ACTIVE', 'ARCHIVED']),
});
export type AsffFinding = z.infer<typeof AsffFindingSchema>;
export type AsffResource = z.infer<typeof AsffResourceSchema>;

/** EventBridge envelope of Security Hub's imported findings. One finding per event, as Security Hub sends them. */
export const SecurityHubImportedEventSchema = z.object({
  source: z.literal('aws.securityhub'),
  'detail-type': z.literal('Security Hub Findings - Imported'),
  detail: z.object({ findings: z.array(z.unknown()).length(1) }),
});
