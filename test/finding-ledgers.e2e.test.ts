/**
 * Issue 12 items 2, 3 and 4 against a real DynamoDB engine (the local cloud's dynalite, with its own conditional
 * write semantics): authz-detector's failure ledger and provenance writer, the provenance record read back by the
 * remediation workflow's classify (the writer/reader contract of @cv/runtime provenance), and the alert ledger.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoFailureLedger } from '../functions/authz-detector/src/adapters/ledger.js';
import { DynamoProvenanceWriter } from '../functions/authz-detector/src/adapters/provenance.js';
import { detectAuthorizationFailures } from '../functions/authz-detector/src/detect.js';
import type { AuthorizationFailure } from '../functions/authz-detector/src/logs.js';
import { DynamoAlertLedger } from '../functions/remediation-steps/src/adapters/alert-ledger.js';
import { DynamoProvenance } from '../functions/remediation-steps/src/adapters/provenance.js';
import { triage } from '../functions/remediation-steps/src/steps/classify.js';
import { startSeededCloud } from './fleet/fleet.js';

const SCOPE = { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' };
const CERT = '5e1f0c2d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d';
const VICTIM = '0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de0badc0de';
const T0 = Date.UTC(2026, 11, 3, 9, 58, 17, 250);

let cloud: LocalCloud;
let ddb: DynamoDBClient;
beforeAll(async () => {
  ({ cloud } = await startSeededCloud());
  ddb = new DynamoDBClient(cloud.clientConfig());
});
afterAll(async () => {
  await cloud?.stop();
});

const failures = (n: number, cert = CERT): AuthorizationFailure[] =>
  Array.from({ length: n }, (_, i) => ({
    eventId: `38207${String(T0 + i * 2500).padStart(20, '0')}${i}`,
    certificateId: cert,
    eventType: 'Subscribe',
    at: T0 + i * 2500,
    clientId: 'WVWZZZ1JZXW000009_TCU-00009',
  }));

function detectorDeps(imported: Array<Record<string, unknown>>) {
  return {
    ledger: new DynamoFailureLedger(ddb, 'cv-security-local-authz-failures', async () => undefined),
    provenance: new DynamoProvenanceWriter(ddb, 'cv-security-local-finding-provenance'),
    findings: { import: async (f: Record<string, unknown>) => void imported.push(f) },
    clock: { now: () => new Date(T0 + 60_000) },
    config: { ...SCOPE, threshold: 10, windowSeconds: 300 },
  };
}

const imported = (finding: Record<string, unknown>) => ({
  source: 'aws.securityhub',
  'detail-type': 'Security Hub Findings - Imported',
  detail: { findings: [{ ...finding, Workflow: { Status: 'NEW' }, WorkflowState: 'NEW' }] },
});

describe('authz-detector on DynamoDB', () => {
  it('12 failures delivered three times (one duplicated within its batch): 12 items, one finding, provenance written', async () => {
    const out: Array<Record<string, unknown>> = [];
    const twelve = failures(12);
    const deps = detectorDeps(out);

    await detectAuthorizationFailures([...twelve.slice(0, 7), twelve[3] as AuthorizationFailure], deps);
    await detectAuthorizationFailures(twelve, deps);
    await detectAuthorizationFailures(twelve, deps);

    const items = await ddb.send(
      new QueryCommand({
        TableName: 'cv-security-local-authz-failures',
        KeyConditionExpression: 'principal = :p AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':p': { S: CERT }, ':e': { S: 'event#' } },
        Select: 'COUNT',
      }),
    );
    expect(items.Count).toBe(12);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      FirstObservedAt: new Date(T0).toISOString(),
      ProductFields: { 'cv/FailureCount': '12' },
    });
  });

  it('classify proves the detector’s finding genuine from the record it wrote, and refuses a look-alike', async () => {
    const out: Array<Record<string, unknown>> = [];
    await detectAuthorizationFailures(failures(10, VICTIM.replace(/0b/g, '1c')), detectorDeps(out));
    const genuine = out[0] ?? {};
    const provenance = { provenance: new DynamoProvenance(ddb, 'cv-security-local-finding-provenance') };

    const state = await triage(imported(genuine), SCOPE, provenance);
    const forged = structuredClone(genuine) as {
      ProductFields: Record<string, string>;
      Resources: Array<Record<string, unknown>>;
    };
    forged.ProductFields.DeviceCertificateId = VICTIM;
    forged.Resources = [
      { Type: 'AwsIotCertificate', Id: `arn:aws:iot:eu-west-1:123456789012:cert/${VICTIM}` },
    ];
    const refused = await triage(imported(forged), SCOPE, provenance);

    expect(state.plan).toMatchObject({
      actions: ['quarantine', 'deactivateCertificate', 'notify', 'openTicket'],
    });
    expect(state.plan.refusal).toBeUndefined();
    expect(refused.plan).toMatchObject({ actions: ['notify'], refusal: { code: 'unverified-finding' } });
    expect(refused.plan.certificateId).toBeUndefined();
  });
});

describe('alert ledger on DynamoDB', () => {
  it('claims once; a second claim is busy until the first is marked sent, then sees it sent; a stale claim is taken over', async () => {
    const ledger = new DynamoAlertLedger(ddb, 'cv-security-local-alert-ledger');
    const now = new Date(T0);

    expect(await ledger.claim('k1', 'finding-1', now)).toEqual({ state: 'claimed' });
    expect(await ledger.claim('k1', 'finding-1', now)).toEqual({ state: 'busy' });
    await ledger.markSent('k1', 'msg-1', now);
    expect(await ledger.claim('k1', 'finding-1', new Date(T0 + 86_400_000))).toEqual({
      state: 'sent',
      messageId: 'msg-1',
    });

    expect(await ledger.claim('k2', 'finding-2', now)).toEqual({ state: 'claimed' });
    expect(await ledger.claim('k2', 'finding-2', new Date(T0 + 60_000))).toEqual({ state: 'busy' });
    expect(await ledger.claim('k2', 'finding-2', new Date(T0 + 121_000))).toEqual({ state: 'claimed' });
  });
});
