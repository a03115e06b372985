#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
/**
 * Prepares a stage for `serverless remove` (docs/operations.md, "Removing a stage"). CloudFormation cannot
 * delete what the running system attached or registered outside the stack:
 *   1. the deny-all quarantine policy, attached to the quarantine thing group by the remediation workflow,
 *      blocks deleting the policy and the group: it is detached from every target;
 *   2. device certificates registered under the operational CA (JITR) block deleting the CA: each one is
 *      set INACTIVE, its policies and things are detached, and it is deleted;
 *   3. the role policies jitr-handler created (`<service>-<stage>-ecu-*`) are deleted once detached.
 * Things and registry rows are left alone (the retained tables keep the fleet's history).
 *
 *   node scripts/teardown.mjs --stage dev --region eu-west-1 --dry-run
 *   node scripts/teardown.mjs --stage dev --region eu-west-1 --confirm dev
 *   then: sh scripts/toolchain.sh npx serverless remove --stage dev --region eu-west-1
 */
import {
  DeleteCertificateCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachPolicyCommand,
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

const SERVICE = 'cv-security';

async function* pages(send, makeCommand, key, markerIn = 'marker', markerOut = 'nextMarker') {
  let marker;
  for (let page = 0; page < 10000; page++) {
    const response = await send(makeCommand(marker === undefined ? {} : { [markerIn]: marker }));
    yield* response[key] ?? [];
    marker = response[markerOut];
    if (!marker) return;
  }
}

/**
 * The IoT clean-up before `serverless remove`. With `dryRun`, only lists what it would do.
 *
 * @param {{ iot: { send: (command: unknown) => Promise<any> }, stage: string, caCertificateId?: string,
 *   dryRun?: boolean, log?: (line: string) => void }} opts
 * @returns {Promise<{ actions: string[] }>} what was (or would be) done, in order
 * @example await prepareTeardown({ iot: new IoTClient({ region }), stage: 'dev', caCertificateId });
 */
export async function prepareTeardown({ iot, stage, caCertificateId, dryRun = false, log = () => {} }) {
  if (!/^[A-Za-z0-9-]{1,32}$/.test(stage)) throw new Error(`invalid stage "${stage}"`);
  const send = (command) => iot.send(command);
  const actions = [];
  const act = async (description, command) => {
    actions.push(description);
    log(`${dryRun ? 'would ' : ''}${description}`);
    if (!dryRun) await send(command);
  };
  const prefix = `${SERVICE}-${stage}`;

  // 1. The quarantine policy, from every target (the quarantine group, or anything else it was put on).
  const quarantine = `${prefix}-quarantine`;
  try {
    for await (const target of pages(
      send,
      (m) => new ListTargetsForPolicyCommand({ policyName: quarantine, ...m }),
      'targets',
    )) {
      await act(
        `detach ${quarantine} from ${target}`,
        new DetachPolicyCommand({ policyName: quarantine, target }),
      );
    }
  } catch (error) {
    if (error?.name !== 'ResourceNotFoundException') throw error;
  }

  // 2. Device certificates under the operational CA.
  if (caCertificateId) {
    const certificates = [];
    for await (const c of pages(
      send,
      (m) => new ListCertificatesByCACommand({ caCertificateId, ...m }),
      'certificates',
    )) {
      certificates.push(c);
    }
    for (const c of certificates) {
      if (c.status === 'ACTIVE' || c.status === 'PENDING_ACTIVATION' || c.status === 'PENDING_TRANSFER') {
        await act(
          `deactivate certificate ${c.certificateId}`,
          new UpdateCertificateCommand({ certificateId: c.certificateId, newStatus: 'INACTIVE' }),
        );
      }
      for await (const p of pages(
        send,
        (m) => new ListAttachedPoliciesCommand({ target: c.certificateArn, recursive: false, ...m }),
        'policies',
      )) {
        await act(
          `detach ${p.policyName} from certificate ${c.certificateId}`,
          new DetachPolicyCommand({ policyName: p.policyName, target: c.certificateArn }),
        );
      }
      for await (const thingName of pages(
        send,
        (m) => new ListPrincipalThingsCommand({ principal: c.certificateArn, ...m }),
        'things',
        'nextToken',
        'nextToken',
      )) {
        await act(
          `detach certificate ${c.certificateId} from thing ${thingName}`,
          new DetachThingPrincipalCommand({ thingName, principal: c.certificateArn }),
        );
      }
      await act(
        `delete certificate ${c.certificateId}`,
        new DeleteCertificateCommand({ certificateId: c.certificateId, forceDelete: true }),
      );
    }
  }

  // 3. The stage's role policies (created at run time by jitr-handler, never by the stack).
  const policies = [];
  for await (const p of pages(send, (m) => new ListPoliciesCommand({ ...m }), 'policies')) {
    if (p.policyName?.startsWith(`${prefix}-ecu-`)) policies.push(p.policyName);
  }
  for (const policyName of policies) {
    const { policyVersions = [] } = await send(new ListPolicyVersionsCommand({ policyName }));
    for (const v of policyVersions.filter((v) => !v.isDefaultVersion)) {
      await act(
        `delete ${policyName} version ${v.versionId}`,
        new DeletePolicyVersionCommand({ policyName, policyVersionId: v.versionId }),
      );
    }
    await act(`delete policy ${policyName}`, new DeletePolicyCommand({ policyName }));
  }
  return { actions };
}

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const stage = arg('stage');
  const region = arg('region') ?? process.env.AWS_REGION ?? 'eu-west-1';
  const dryRun = process.argv.includes('--dry-run');
  if (!stage || (!dryRun && arg('confirm') !== stage)) {
    console.error(
      'usage: node scripts/teardown.mjs --stage <stage> [--region <region>] (--dry-run | --confirm <stage>)',
    );
    process.exit(2);
  }
  const cfn = new CloudFormationClient({ region });
  const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: `${SERVICE}-${stage}` }));
  const caCertificateId = Stacks[0]?.Outputs?.find(
    (o) => o.OutputKey === 'OperationalCaCertificateId',
  )?.OutputValue;
  const { actions } = await prepareTeardown({
    iot: new IoTClient({ region }),
    stage,
    caCertificateId,
    dryRun,
    log: (line) => console.log(line),
  });
  console.log(
    `${actions.length} action(s)${dryRun ? ' planned' : ' done'}; next: sh scripts/toolchain.sh npx serverless remove --stage ${stage} --region ${region}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`teardown failed: ${error.name}: ${error.message}`);
    process.exit(1);
  });
}
