/**
 * Removal that works (issue 14): scripts/teardown.mjs detaches and deletes what the running system put
 * outside the stack, in the order CloudFormation needs, and only that.
 */
import {
  DeleteCertificateCommand,
  DeletePolicyCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListCertificatesByCACommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { prepareTeardown } from '../scripts/teardown.mjs';

const iot = mockClient(IoTClient);
const arn = (id: string) => `arn:aws:iot:eu-west-1:402938475610:cert/${id}`;

beforeEach(() => {
  iot.reset();
  iot
    .on(ListTargetsForPolicyCommand)
    .resolves({ targets: ['arn:aws:iot:eu-west-1:402938475610:thinggroup/cv-security-dev-quarantine'] });
  iot
    .on(ListCertificatesByCACommand)
    .resolvesOnce({
      certificates: [{ certificateId: 'c1', certificateArn: arn('c1'), status: 'ACTIVE' }],
      nextMarker: 'm',
    })
    .resolves({ certificates: [{ certificateId: 'c2', certificateArn: arn('c2'), status: 'REVOKED' }] });
  iot
    .on(ListAttachedPoliciesCommand, { target: arn('c1') })
    .resolves({ policies: [{ policyName: 'cv-security-dev-ecu-gateway' }] });
  iot.on(ListAttachedPoliciesCommand, { target: arn('c2') }).resolves({ policies: [] });
  iot
    .on(ListPrincipalThingsCommand, { principal: arn('c1') })
    .resolves({ things: ['1HGCM82633A004352_gw-1'] });
  iot.on(ListPrincipalThingsCommand, { principal: arn('c2') }).resolves({ things: [] });
  iot.on(ListPoliciesCommand).resolves({
    policies: [
      { policyName: 'cv-security-dev-ecu-gateway' },
      { policyName: 'cv-security-prod-ecu-gateway' },
      { policyName: 'someone-elses-policy' },
      { policyName: 'cv-security-dev-quarantine' },
    ],
  });
  iot.on(ListPolicyVersionsCommand).resolves({
    policyVersions: [
      { versionId: '2', isDefaultVersion: true },
      { versionId: '1', isDefaultVersion: false },
    ],
  });
});

describe('prepareTeardown', () => {
  it("detaches the quarantine policy, retires every certificate under the CA (all pages), then deletes only this stage's role policies", async () => {
    const { actions } = await prepareTeardown({
      iot: new IoTClient({ region: 'eu-west-1' }),
      stage: 'dev',
      caCertificateId: 'ca1',
    });

    expect(actions).toEqual([
      'detach cv-security-dev-quarantine from arn:aws:iot:eu-west-1:402938475610:thinggroup/cv-security-dev-quarantine',
      'deactivate certificate c1',
      'detach cv-security-dev-ecu-gateway from certificate c1',
      'detach certificate c1 from thing 1HGCM82633A004352_gw-1',
      'delete certificate c1',
      'delete certificate c2',
      'delete cv-security-dev-ecu-gateway version 1',
      'delete policy cv-security-dev-ecu-gateway',
    ]);
    expect(iot.commandCalls(DeletePolicyCommand).map((c) => c.args[0].input.policyName)).toEqual([
      'cv-security-dev-ecu-gateway',
    ]);
    expect(iot.commandCalls(UpdateCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { certificateId: 'c1', newStatus: 'INACTIVE' },
    ]);
    expect(iot.commandCalls(DetachThingPrincipalCommand)).toHaveLength(1);
    expect(iot.commandCalls(DeleteCertificateCommand).map((c) => c.args[0].input.certificateId)).toEqual([
      'c1',
      'c2',
    ]);
  });

  it('--dry-run changes nothing', async () => {
    const { actions } = await prepareTeardown({
      iot: new IoTClient({ region: 'eu-west-1' }),
      stage: 'dev',
      caCertificateId: 'ca1',
      dryRun: true,
    });
    expect(actions.length).toBeGreaterThan(0);
    // Only List* calls: nothing detached, deactivated or deleted.
    const writes = iot
      .calls()
      .map((c) => (c.args[0] as object).constructor.name)
      .filter((n) => !n.startsWith('List'));
    expect(writes).toEqual([]);
  });

  it('refuses a stage name that could widen the policy prefix', async () => {
    await expect(
      prepareTeardown({ iot: new IoTClient({ region: 'eu-west-1' }), stage: 'dev*' }),
    ).rejects.toThrow(/invalid stage/);
    await expect(prepareTeardown({ iot: new IoTClient({ region: 'eu-west-1' }), stage: '' })).rejects.toThrow(
      /invalid stage/,
    );
    expect(iot.calls()).toHaveLength(0);
  });
});
