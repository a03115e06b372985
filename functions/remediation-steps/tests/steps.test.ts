import {
  ACMPCAClient,
  RequestAlreadyProcessedException,
  RevokeCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { ConditionalCheckFailedException, DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateJobCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DescribeCertificateCommand,
  GetPolicyCommand,
  IoTClient,
  ListPolicyVersionsCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ResourceAlreadyExistsException,
  ThrottlingException,
  UnauthorizedException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CreateOpsItemCommand,
  DescribeOpsItemsCommand,
  OpsItemAlreadyExistsException,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { analyzeIotPolicy, proposeLeastPrivilege } from '@cv/policy';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidStepInputError, TransientStepError } from '../src/errors.js';
import type { RemediationState } from '../src/plan.js';
import { rotationJobId } from '../src/steps/rotate-certificate.js';
import { CERT, POLICY, THING } from './corpus.js';
import {
  ACCOUNT,
  context,
  GROUP,
  inputs,
  mock,
  opensslCertificate,
  PCA,
  QUARANTINE_POLICY,
  REGION,
  STEP_ENV,
  stateAt,
  TABLE,
  TOPIC,
} from './harness.js';

type Handlers = typeof import('../src/handler.js');
let h: Handlers;
const saved = { ...process.env };

const iot = mock(IoTClient);
const pca = mock(ACMPCAClient);
const ddb = mock(DynamoDBClient);
const sns = mock(SNSClient);
const ssm = mock(SSMClient);
const hub = mock(SecurityHubClient);

beforeAll(async () => {
  Object.assign(process.env, STEP_ENV);
  h = await import('../src/handler.js');
});
afterAll(() => {
  process.env = saved;
});
beforeEach(() => {
  for (const m of [iot, pca, ddb, sns, ssm, hub]) m.reset();
});

const ctx = context();
const run = (fn: (e: unknown, c: typeof ctx) => Promise<unknown>, input: unknown) =>
  fn(input, ctx) as Promise<RemediationState>;
const certArn = (id: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${id}`;
const groupArn = `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${GROUP}`;

describe('quarantine', () => {
  it('adds the thing to the quarantine group, overriding dynamic groups', async () => {
    iot.on(ListTargetsForPolicyCommand).resolves({ targets: [groupArn] });
    iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [{ groupName: 'fleet-eu' }] });
    iot.on(AddThingToThingGroupCommand).resolves({});

    const out = await run(h.quarantine, stateAt('detect-authorization-failures', 'quarantine'));

    expect(inputs(iot, AddThingToThingGroupCommand)).toContainEqual(
      expect.objectContaining({
        thingName: THING,
        thingGroupName: GROUP,
        overrideDynamicGroups: true,
      }),
    );
    expect(inputs(iot, AttachPolicyCommand)).toHaveLength(0);
    expect(out.results.at(-1)).toMatchObject({ action: 'quarantine', outcome: 'changed' });
    expect(out.remaining[0]).toBe('deactivateCertificate');
  });

  it('is a no-op when the thing is already in the group (second run)', async () => {
    iot.on(ListTargetsForPolicyCommand).resolves({ targets: [groupArn] });
    iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [{ groupName: GROUP }] });
    const input = stateAt('detect-authorization-failures', 'quarantine');

    const first = await run(h.quarantine, input);
    const second = await run(h.quarantine, input);

    expect(inputs(iot, AddThingToThingGroupCommand)).toHaveLength(0);
    expect(first).toEqual(second);
    expect(first.results.at(-1)).toMatchObject({ outcome: 'unchanged' });
  });

  it('attaches the deny-all policy to the group when it is missing', async () => {
    iot.on(ListTargetsForPolicyCommand).resolves({ targets: [] });
    iot.on(AttachPolicyCommand).resolves({});
    iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [{ groupName: GROUP }] });

    const out = await run(h.quarantine, stateAt('detect-authorization-failures', 'quarantine'));

    expect(inputs(iot, AttachPolicyCommand)).toContainEqual(
      expect.objectContaining({ policyName: QUARANTINE_POLICY, target: groupArn }),
    );
    expect(out.results.at(-1)).toMatchObject({ outcome: 'changed' });
  });

  it('quarantines the things a shared certificate is attached to', async () => {
    iot.on(ListPrincipalThingsCommand).resolves({ things: [THING] });
    iot.on(ListTargetsForPolicyCommand).resolves({ targets: [groupArn] });
    iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [] });
    iot.on(AddThingToThingGroupCommand).resolves({});

    await run(h.quarantine, stateAt('audit-device-certificate-shared', 'quarantine'));

    expect(inputs(iot, ListPrincipalThingsCommand)).toContainEqual(
      expect.objectContaining({ principal: certArn(CERT) }),
    );
    expect(inputs(iot, AddThingToThingGroupCommand)).toContainEqual(
      expect.objectContaining({ thingName: THING, thingGroupName: GROUP }),
    );
  });

  it('turns throttling into a retryable TransientStepError and changes nothing', async () => {
    iot
      .on(ListTargetsForPolicyCommand)
      .rejects(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

    const attempt = run(h.quarantine, stateAt('detect-authorization-failures', 'quarantine'));

    await expect(attempt).rejects.toBeInstanceOf(TransientStepError);
    await expect(attempt).rejects.toMatchObject({ name: 'TransientStepError' });
    expect(inputs(iot, AddThingToThingGroupCommand)).toHaveLength(0);
  });

  it('lets a permanent error through (the Catch path handles it)', async () => {
    iot
      .on(ListTargetsForPolicyCommand)
      .rejects(new UnauthorizedException({ message: 'denied', $metadata: {} }));

    await expect(
      run(h.quarantine, stateAt('detect-authorization-failures', 'quarantine')),
    ).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('refuses a state whose next action is not its own, calling nothing', async () => {
    const input = stateAt('detect-authorization-failures', 'notify');

    await expect(run(h.quarantine, input)).rejects.toBeInstanceOf(InvalidStepInputError);
    expect(iot.calls()).toHaveLength(0);
  });
});

describe('deactivateCertificate', () => {
  it('sets an ACTIVE certificate INACTIVE', async () => {
    iot
      .on(DescribeCertificateCommand)
      .resolves({ certificateDescription: { certificateId: CERT, status: 'ACTIVE' } });
    iot.on(UpdateCertificateCommand).resolves({});

    const out = await run(
      h.deactivateCertificate,
      stateAt('audit-revoked-device-certificate-still-active', 'deactivateCertificate'),
    );

    expect(inputs(iot, UpdateCertificateCommand)).toContainEqual(
      expect.objectContaining({ certificateId: CERT, newStatus: 'INACTIVE' }),
    );
    expect(out.results.at(-1)).toMatchObject({ action: 'deactivateCertificate', outcome: 'changed' });
  });

  it.each(['INACTIVE', 'REVOKED'])('leaves an already %s certificate alone, twice', async (status) => {
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateId: CERT, status } });
    const input = stateAt('audit-revoked-device-certificate-still-active', 'deactivateCertificate');

    const first = await run(h.deactivateCertificate, input);
    const second = await run(h.deactivateCertificate, input);

    expect(inputs(iot, UpdateCertificateCommand)).toHaveLength(0);
    expect(first).toEqual(second);
  });

  it('deactivates every certificate attached to the thing when the finding names only the thing', async () => {
    const other = 'b'.repeat(64);
    iot.on(ListThingPrincipalsCommand).resolves({
      principals: [
        certArn(CERT),
        certArn(other),
        `arn:aws:cognito-identity:${REGION}:${ACCOUNT}:identitypool/x`,
      ],
    });
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: 'ACTIVE' } });
    iot.on(UpdateCertificateCommand).resolves({});

    await run(h.deactivateCertificate, stateAt('audit-conflicting-client-ids', 'deactivateCertificate'));

    expect(inputs(iot, ListThingPrincipalsCommand)).toContainEqual(
      expect.objectContaining({ thingName: THING }),
    );
    expect(inputs(iot, UpdateCertificateCommand)).toHaveLength(2);
    expect(inputs(iot, UpdateCertificateCommand)).toContainEqual(
      expect.objectContaining({ certificateId: other, newStatus: 'INACTIVE' }),
    );
  });
});

describe('revokeCertificate', () => {
  const cert = opensslCertificate(THING);

  it('revokes in Private CA by the serial openssl reports, then sets REVOKED in IoT', async () => {
    iot.on(DescribeCertificateCommand).resolves({
      certificateDescription: { certificateId: CERT, status: 'INACTIVE', certificatePem: cert.pem },
    });
    iot.on(UpdateCertificateCommand).resolves({});
    pca.on(RevokeCertificateCommand).resolves({});

    const out = await run(
      h.revokeCertificate,
      stateAt('audit-device-certificate-shared', 'revokeCertificate'),
    );

    const sent = inputs(pca, RevokeCertificateCommand)[0];
    expect(sent?.CertificateAuthorityArn).toBe(PCA);
    expect(sent?.RevocationReason).toBe('KEY_COMPROMISE');
    expect(sent?.CertificateSerial?.replace(/:/g, '').toUpperCase()).toBe(cert.serial);
    expect(inputs(iot, UpdateCertificateCommand)).toContainEqual(
      expect.objectContaining({ certificateId: CERT, newStatus: 'REVOKED' }),
    );
    expect(out.results.at(-1)).toMatchObject({ action: 'revokeCertificate', outcome: 'changed' });
  });

  it('counts "already revoked" in the CA and REVOKED in IoT as done', async () => {
    iot.on(DescribeCertificateCommand).resolves({
      certificateDescription: { certificateId: CERT, status: 'REVOKED', certificatePem: cert.pem },
    });
    pca
      .on(RevokeCertificateCommand)
      .rejects(new RequestAlreadyProcessedException({ message: 'already', $metadata: {} }));

    const out = await run(
      h.revokeCertificate,
      stateAt('audit-device-certificate-shared', 'revokeCertificate'),
    );

    expect(inputs(iot, UpdateCertificateCommand)).toHaveLength(0);
    expect(out.results.at(-1)).toMatchObject({ outcome: 'unchanged' });
  });
});

describe('rotateCertificate', () => {
  const jobId = rotationJobId(
    '123456789012/DEVICE_CERTIFICATE/3f9c2b7e8a1d4c6f0b5e9a2d7c4f1e8b6a3d0c9f2e5b8a1d4c7f0e3b6a9d2c5f/DEVICE_CERTIFICATE_EXPIRING_CHECK/CERTIFICATE_APPROACHING_EXPIRATION',
  );

  it('creates one job with an id derived from the finding and marks the registry row', async () => {
    iot.on(ListPrincipalThingsCommand).resolves({ things: [THING] });
    iot.on(CreateJobCommand).resolves({ jobId });
    ddb.on(UpdateItemCommand).resolves({});

    const out = await run(
      h.rotateCertificate,
      stateAt('audit-device-certificate-expiring', 'rotateCertificate'),
    );

    expect(jobId).toMatch(/^cv-rotate-[0-9a-f]{40}$/);
    expect(inputs(iot, CreateJobCommand)).toContainEqual(
      expect.objectContaining({
        jobId,
        targets: [`arn:aws:iot:${REGION}:${ACCOUNT}:thing/${THING}`],
        document: JSON.stringify({ operation: 'cv.rotate-certificate' }),
        targetSelection: 'SNAPSHOT',
      }),
    );
    const update = inputs(ddb, UpdateItemCommand)[0];
    expect(update?.TableName).toBe(TABLE);
    expect(update?.Key).toEqual({ ecuId: { S: 'TCU-00042' } });
    expect(update?.ExpressionAttributeValues?.[':job']).toEqual({ S: jobId });
    expect(update?.ExpressionAttributeValues?.[':method']).toEqual({ S: 'job' });
    expect(update?.ExpressionAttributeValues?.[':retired']).toEqual({ L: [] });
    expect(out.results.at(-1)).toMatchObject({ action: 'rotateCertificate', outcome: 'changed' });
  });

  it('a retry finds its job and its mark: no second job, same end state', async () => {
    iot.on(ListPrincipalThingsCommand).resolves({ things: [THING] });
    iot
      .on(CreateJobCommand)
      .rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {}, resourceId: jobId }));
    ddb.on(UpdateItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'condition',
        $metadata: {},
        Item: { ecuId: { S: 'TCU-00042' }, thingName: { S: THING }, rotationJobId: { S: jobId } },
      }),
    );

    const out = await run(
      h.rotateCertificate,
      stateAt('audit-device-certificate-expiring', 'rotateCertificate'),
    );

    expect(inputs(iot, CreateJobCommand)).toHaveLength(1);
    expect(out.results.at(-1)).toMatchObject({ outcome: 'unchanged', data: { jobId, marked: [] } });
  });

  it('says so when the thing has no registry row', async () => {
    iot.on(ListPrincipalThingsCommand).resolves({ things: [THING] });
    iot.on(CreateJobCommand).resolves({ jobId });
    ddb
      .on(UpdateItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'condition', $metadata: {} }));

    const out = await run(
      h.rotateCertificate,
      stateAt('audit-device-certificate-expiring', 'rotateCertificate'),
    );

    expect(out.results.at(-1)?.detail).toMatch(/no registry row/);
  });
});

describe('fixPolicy', () => {
  const ctxPolicy = { region: REGION, accountId: ACCOUNT, roleAlias: 'cv-security-dev-ecu' };
  const broad = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive'],
        Resource: '*',
      },
    ],
  });
  const versions = (n: number, defaultId: string) =>
    Array.from({ length: n }, (_, i) => ({
      versionId: String(i + 1),
      isDefaultVersion: String(i + 1) === defaultId,
      createDate: new Date(Date.UTC(2026, 0, 1 + i)),
    }));

  it('at the five-version limit prunes the oldest non-default version, then sets the least-privilege default', async () => {
    iot.on(GetPolicyCommand).resolves({ policyName: POLICY, defaultVersionId: '3', policyDocument: broad });
    iot.on(ListPolicyVersionsCommand).resolves({ policyVersions: versions(5, '1') });
    iot.on(DeletePolicyVersionCommand).resolves({});
    iot.on(CreatePolicyVersionCommand).resolves({ policyVersionId: '6' });

    const out = await run(h.fixPolicy, stateAt('audit-iot-policy-overly-permissive', 'fixPolicy'));

    expect(inputs(iot, DeletePolicyVersionCommand)).toContainEqual(
      expect.objectContaining({ policyName: POLICY, policyVersionId: '2' }),
    );
    const created = inputs(iot, CreatePolicyVersionCommand)[0];
    expect(created?.setAsDefault).toBe(true);
    const doc = JSON.parse(created?.policyDocument ?? '{}');
    expect(doc).toEqual(proposeLeastPrivilege('telematics', ctxPolicy));
    expect(analyzeIotPolicy(doc)).toEqual([]);
    expect(out.results.at(-1)).toMatchObject({
      action: 'fixPolicy',
      outcome: 'changed',
      data: { prunedVersionId: '2' },
    });
    const deleteAt = iot.calls().findIndex((c) => c.args[0] instanceof DeletePolicyVersionCommand);
    const createAt = iot.calls().findIndex((c) => c.args[0] instanceof CreatePolicyVersionCommand);
    expect(deleteAt).toBeLessThan(createAt);
  });

  it('below the limit deletes nothing', async () => {
    iot.on(GetPolicyCommand).resolves({ policyName: POLICY, defaultVersionId: '1', policyDocument: broad });
    iot.on(ListPolicyVersionsCommand).resolves({ policyVersions: versions(2, '1') });
    iot.on(CreatePolicyVersionCommand).resolves({ policyVersionId: '3' });

    await run(h.fixPolicy, stateAt('audit-iot-policy-overly-permissive', 'fixPolicy'));

    expect(inputs(iot, DeletePolicyVersionCommand)).toHaveLength(0);
    expect(inputs(iot, CreatePolicyVersionCommand)).toHaveLength(1);
  });

  it('is a no-op when the default version is already least-privilege', async () => {
    iot.on(GetPolicyCommand).resolves({
      policyName: POLICY,
      defaultVersionId: '6',
      policyDocument: JSON.stringify(proposeLeastPrivilege('telematics', ctxPolicy)),
    });

    const out = await run(h.fixPolicy, stateAt('audit-iot-policy-overly-permissive', 'fixPolicy'));

    expect(inputs(iot, CreatePolicyVersionCommand)).toHaveLength(0);
    expect(inputs(iot, DeletePolicyVersionCommand)).toHaveLength(0);
    expect(out.results.at(-1)).toMatchObject({ outcome: 'unchanged' });
  });

  it('makes no automatic change to a policy that maps to no ECU role', async () => {
    const state = stateAt('audit-iot-policy-overly-permissive', 'fixPolicy');
    state.plan.policyName = 'legacy-fleet-policy';
    iot
      .on(GetPolicyCommand)
      .resolves({ policyName: 'legacy-fleet-policy', defaultVersionId: '1', policyDocument: broad });

    const out = await run(h.fixPolicy, state);

    expect(inputs(iot, CreatePolicyVersionCommand)).toHaveLength(0);
    expect(inputs(iot, DeletePolicyVersionCommand)).toHaveLength(0);
    expect(out.results.at(-1)).toMatchObject({ outcome: 'declined' });
    expect(out.remaining).toEqual(['notify', 'openTicket']);
  });
});

describe('notify', () => {
  it('publishes a structured alert to the topic, without PEMs or descriptions', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    const out = await run(h.notify, stateAt('audit-device-certificate-shared', 'notify'));

    const sent = inputs(sns, PublishCommand)[0];
    expect(sent?.TopicArn).toBe(TOPIC);
    expect(sent?.Subject).toBe('[cv-security] CRITICAL DEVICE_CERTIFICATE_SHARED_CHECK');
    const message = JSON.parse(sent?.Message ?? '{}');
    expect(message).toMatchObject({
      outcome: 'remediating',
      check: 'DEVICE_CERTIFICATE_SHARED_CHECK',
      targets: { certificateId: CERT },
    });
    expect(sent?.Message).not.toMatch(/BEGIN|Description|non-compliant reason/);
    expect(sent?.MessageAttributes?.dedupeKey?.StringValue).toMatch(/^cv-[0-9a-f]{32}$/);
    expect(out.results.at(-1)).toMatchObject({ action: 'notify', outcome: 'changed' });
  });

  it('on the Catch path reports the failure (name and message, never the trace) and keeps the error', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    const state = stateAt('audit-device-certificate-shared', 'deactivateCertificate');
    const input = {
      ...state,
      error: {
        Error: 'UnauthorizedException',
        Cause: JSON.stringify({
          errorType: 'UnauthorizedException',
          errorMessage: 'not allowed',
          trace: ['at secret/path.js:1'],
        }),
      },
    };

    const out = (await h.notify(input, ctx)) as RemediationState;

    const message = JSON.parse(inputs(sns, PublishCommand)[0]?.Message ?? '{}');
    expect(message.failure).toEqual({ error: 'UnauthorizedException', message: 'not allowed' });
    expect(JSON.stringify(message)).not.toContain('secret/path');
    expect(out.error?.Error).toBe('UnauthorizedException');
    expect(out.remaining).toEqual(state.remaining);
  });

  it('reports a finding classify could not read', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-3' });
    const event = {
      detail: { findings: [{ Id: 'abc', ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/x' }] },
    };

    const out = (await h.notify(
      { ...event, error: { Error: 'MalformedFindingError', Cause: 'bad' } },
      ctx,
    )) as {
      unclassified: unknown;
    };

    const sent = inputs(sns, PublishCommand)[0];
    expect(sent?.Subject).toBe('[cv-security] Unclassifiable security finding');
    expect(JSON.parse(sent?.Message ?? '{}')).toMatchObject({
      outcome: 'unclassifiable-finding',
      findingId: 'abc',
    });
    expect(out.unclassified).toEqual({
      findingId: 'abc',
      productArn: 'arn:aws:securityhub:eu-west-1::product/aws/x',
    });
  });

  it('gives two unreadable findings two different dedupe keys', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-4' });
    const caught = { error: { Error: 'MalformedFindingError', Cause: 'bad' } };

    await h.notify({ id: 'c1e3a7f2-0000-4e61-8a0c-2f7b3d9e4a15', detail: {}, ...caught }, ctx);
    await h.notify({ id: 'c1e3a7f2-1111-4e61-8a0c-2f7b3d9e4a15', detail: {}, ...caught }, ctx);

    const keys = inputs(sns, PublishCommand).map((i) => i.MessageAttributes?.dedupeKey?.StringValue);
    expect(new Set(keys).size).toBe(2);
  });
});

describe('openTicket', () => {
  it('opens an OpsItem carrying the finding id and a dedup string', async () => {
    ssm.on(DescribeOpsItemsCommand).resolves({ OpsItemSummaries: [] });
    ssm.on(CreateOpsItemCommand).resolves({ OpsItemId: 'oi-0123456789ab' });
    const state = stateAt('audit-ca-certificate-expiring', 'openTicket');

    const out = await run(h.openTicket, state);

    expect(inputs(ssm, DescribeOpsItemsCommand)).toContainEqual(
      expect.objectContaining({
        OpsItemFilters: [
          {
            Key: 'OperationalData',
            Operator: 'Equal',
            Values: [JSON.stringify({ key: '/cv/findingId', value: state.plan.findingId })],
          },
        ],
      }),
    );
    const created = inputs(ssm, CreateOpsItemCommand)[0];
    expect(created?.OperationalData?.['/cv/findingId']).toEqual({
      Value: state.plan.findingId,
      Type: 'SearchableString',
    });
    expect(JSON.parse(created?.OperationalData?.['/aws/dedup']?.Value ?? '{}').dedupString).toMatch(
      /^cv-security:finding:[0-9a-f]{64}$/,
    );
    expect(created?.Severity).toBe('3');
    expect(out.results.at(-1)).toMatchObject({
      action: 'openTicket',
      outcome: 'changed',
      data: { opsItemId: 'oi-0123456789ab' },
    });
  });

  it('finds the ticket already open for this finding and opens none', async () => {
    ssm.on(DescribeOpsItemsCommand).resolves({
      OpsItemSummaries: [
        { OpsItemId: 'oi-resolved', Status: 'Resolved' },
        { OpsItemId: 'oi-open', Status: 'Open' },
      ],
    });

    const out = await run(h.openTicket, stateAt('audit-ca-certificate-expiring', 'openTicket'));

    expect(inputs(ssm, CreateOpsItemCommand)).toHaveLength(0);
    expect(out.results.at(-1)).toMatchObject({ outcome: 'unchanged', data: { opsItemId: 'oi-open' } });
  });

  it("takes OpsCenter's deduplication answer as the existing ticket", async () => {
    ssm.on(DescribeOpsItemsCommand).resolves({ OpsItemSummaries: [] });
    ssm
      .on(CreateOpsItemCommand)
      .rejects(
        new OpsItemAlreadyExistsException({ message: 'exists', $metadata: {}, OpsItemId: 'oi-dedup' }),
      );

    const out = await run(h.openTicket, stateAt('audit-ca-certificate-expiring', 'openTicket'));

    expect(out.results.at(-1)).toMatchObject({ outcome: 'unchanged', data: { opsItemId: 'oi-dedup' } });
  });
});

describe('closeFinding', () => {
  const done = (name: string): RemediationState => {
    const s = stateAt(name, 'notify');
    return { ...s, remaining: [] };
  };

  it('resolves a remediated finding with a note of what was done; twice gives the same update', async () => {
    hub
      .on(BatchUpdateFindingsCommand)
      .resolves({ ProcessedFindings: [{ Id: 'x', ProductArn: 'y' }], UnprocessedFindings: [] });
    const state: RemediationState = {
      ...done('audit-device-certificate-expiring'),
      results: [
        { action: 'rotateCertificate', outcome: 'changed', detail: 'job' },
        { action: 'notify', outcome: 'changed', detail: 'alert' },
      ],
    };

    await h.closeFinding(state, ctx);
    await h.closeFinding(state, ctx);

    const [a, b] = inputs(hub, BatchUpdateFindingsCommand);
    expect(a).toEqual(b);
    expect(a).toMatchObject({
      FindingIdentifiers: [{ Id: state.plan.findingId, ProductArn: state.plan.productArn }],
      Workflow: { Status: 'RESOLVED' },
      Note: { UpdatedBy: 'cv-security/remediation-steps' },
    });
    expect(a?.Note?.Text).toContain('rotateCertificate: changed');
    expect((a?.Note?.Text ?? '').length).toBeLessThanOrEqual(512);
  });

  it('marks NOTIFIED with what failed on the Catch path', async () => {
    hub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const input = {
      ...done('audit-device-certificate-shared'),
      error: {
        Error: 'StepFailedError',
        Cause: JSON.stringify({ errorMessage: 'Step quarantine failed: x' }),
      },
    };

    await h.closeFinding(input, ctx);

    const sent = inputs(hub, BatchUpdateFindingsCommand)[0];
    expect(sent?.Workflow?.Status).toBe('NOTIFIED');
    expect(sent?.Note?.Text).toContain('FAILED (StepFailedError: Step quarantine failed: x)');
  });

  it('marks NOTIFIED when only people can act (CA finding, declined fix)', async () => {
    hub.on(BatchUpdateFindingsCommand).resolves({ UnprocessedFindings: [] });

    await h.closeFinding(done('audit-ca-certificate-expiring'), ctx);

    expect(inputs(hub, BatchUpdateFindingsCommand)[0]?.Workflow?.Status).toBe('NOTIFIED');
  });

  it('fails when Security Hub leaves the finding unprocessed', async () => {
    hub.on(BatchUpdateFindingsCommand).resolves({
      UnprocessedFindings: [
        { FindingIdentifier: { Id: 'x', ProductArn: 'y' }, ErrorCode: 'FindingNotFound', ErrorMessage: 'no' },
      ],
    });

    await expect(h.closeFinding(done('audit-ca-certificate-expiring'), ctx)).rejects.toThrow(
      /FindingNotFound/,
    );
  });
});

describe('configuration', () => {
  it('names the missing variable, at the first invocation of the step that needs it', async () => {
    vi.resetModules();
    const { ALERT_TOPIC_ARN: _, ...rest } = STEP_ENV;
    process.env = { ...saved, ...rest };
    const fresh: Handlers = await import('../src/handler.js');
    const runtime = await import('@cv/runtime');

    const attempt = fresh.notify(stateAt('audit-device-certificate-shared', 'notify'), ctx);

    await expect(attempt).rejects.toBeInstanceOf(runtime.ConfigError);
    await expect(attempt).rejects.toThrow(/ALERT_TOPIC_ARN/);
    expect(inputs(sns, PublishCommand)).toHaveLength(0);
    process.env = { ...saved, ...STEP_ENV };
  });
});
