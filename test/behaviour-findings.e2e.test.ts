/**
 * Issue 19: behaviour-detector's findings are proven genuine to the remediation workflow the same way
 * authz-detector's are. The detector (its real DynamoDB adapters, on the local cloud's DynamoDB) raises a
 * cloned-identity finding from lifecycle events; classify reads the provenance record it wrote and plays the
 * behaviour row; a look-alike (another thing, or a notify-only finding re-imported as a cloned identity) is refused.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startSeededCloud } from '@cv/demo';
import type { LocalCloud } from '@cv/local-cloud';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryDeps } from '../functions/behaviour-detector/eval/memory.js';
import { DynamoProvenanceWriter } from '../functions/behaviour-detector/src/adapters/provenance.js';
import { onPresence } from '../functions/behaviour-detector/src/presence.js';
import type { PresenceEvent } from '../functions/behaviour-detector/src/rules.js';
import { DynamoProvenance } from '../functions/remediation-steps/src/adapters/provenance.js';
import { triage } from '../functions/remediation-steps/src/steps/classify.js';

const SCOPE = { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' };
const THING = 'WVWZZZ1JZXW000077_tcu-1';
const CERT = '7e57c0de'.repeat(8);
const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);

let cloud: LocalCloud;
let ddb: DynamoDBClient;
beforeAll(async () => {
  ({ cloud } = await startSeededCloud());
  ddb = new DynamoDBClient(cloud.clientConfig());
});
afterAll(async () => {
  await cloud?.stop();
});

const event = (kind: 'connected' | 'disconnected', at: number, ip?: string): PresenceEvent => ({
  thingName: THING,
  kind,
  at,
  sessionId: `s-${at}`,
  certificateId: CERT,
  ...(ip === undefined ? { disconnectReason: 'DUPLICATE_CLIENTID' } : { ipAddress: ip }),
});
const imported = (finding: Record<string, unknown>) => ({
  source: 'aws.securityhub',
  'detail-type': 'Security Hub Findings - Imported',
  detail: { findings: [{ ...finding, Workflow: { Status: 'NEW' }, WorkflowState: 'NEW' }] },
});

describe('behaviour-detector findings in the remediation workflow', () => {
  it('a cloned identity raised from lifecycle events is proven genuine and played as a device compromise; look-alikes are refused', async () => {
    const memory = memoryDeps(new Map([[THING, 'telematics']]));
    memory.deps.provenance = new DynamoProvenanceWriter(ddb, 'cv-security-local-finding-provenance');
    memory.setNow(T0 + 200_000);
    await onPresence(
      [
        event('connected', T0, '100.64.0.1'),
        event('connected', T0 + 60_000, '198.51.100.9'),
        event('disconnected', T0 + 60_500),
        event('connected', T0 + 120_000, '100.64.0.1'),
        event('disconnected', T0 + 120_500),
        event('connected', T0 + 180_000, '198.51.100.9'),
        event('disconnected', T0 + 180_500),
      ],
      memory.deps,
    );
    const genuine = memory.findings[0] ?? {};
    const provenance = { provenance: new DynamoProvenance(ddb, 'cv-security-local-finding-provenance') };

    const state = await triage(imported(genuine), SCOPE, provenance);
    expect(state.plan).toMatchObject({
      thingName: THING,
      certificateId: CERT,
      check: 'cv-security/behaviour-detector/CLONED_IDENTITY',
      actions: [
        'quarantine',
        'deactivateCertificate',
        'revokeCertificate',
        'rotateCertificate',
        'notify',
        'openTicket',
      ],
    });
    expect(state.plan.refusal).toBeUndefined();

    // The same finding pointed at another ECU: no record names that thing.
    const victim = JSON.parse(JSON.stringify(genuine).replaceAll(THING, 'WVWZZZ1JZXW000078_gw-1')) as Record<
      string,
      unknown
    >;
    const refusedVictim = await triage(imported(victim), SCOPE, provenance);
    expect(refusedVictim.plan).toMatchObject({
      actions: ['notify'],
      refusal: { code: 'unverified-finding' },
    });
    expect(refusedVictim.plan.thingName).toBeUndefined();

    // A notify-only behaviour re-imported under a cloned-identity Id of the same ECU: no record for that Id.
    const escalated = { ...genuine, Id: String(genuine.Id).replace(/T09:00:00.000Z$/, 'T09:00:01.000Z') };
    const refusedEscalation = await triage(imported(escalated), SCOPE, provenance);
    expect(refusedEscalation.plan).toMatchObject({
      actions: ['notify'],
      refusal: { code: 'unverified-finding' },
    });
  });
});
