/**
 * The roles AWS services assume on the platform's behalf (the state machine's, the IoT rules', the EventBridge
 * target's, IoT logging's, Device Defender's notification and alert roles) and the resource policies services meet
 * (Lambda permissions, queue policies, key policies): every request derived from the packaged template is allowed,
 * every grant is used, every Lambda permission is used and scoped to a source of this account.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, evaluate, proveServices, type ServiceProof, type ServiceRequest } from '../src/index.js';
import { packagedTemplate, ROOT } from './support.js';

const { template } = packagedTemplate();
let proof: ServiceProof;

/**
 * Roles that trust a service and that no derived request uses, each with why: the ECU role is proven by ecu.test.ts;
 * the two AWS-managed service-role policies are AWS's statements (not in the template) for what AWS's own service does.
 */
const PROVEN_ELSEWHERE: Record<string, string> = {
  EcuCredentialProviderRole: 'the IoT credential provider for ECUs: tests/ecu.test.ts',
  DeviceDefenderAuditRole: 'AWSIoTDeviceDefenderAudit (AWS managed): the audit reads what its checks need',
  ApiGatewayCloudWatchRole:
    'AmazonAPIGatewayPushToCloudWatchLogs (AWS managed): the account-wide API Gateway log role',
};

const SERVICE_ROLES = [
  'DetectAlertRole',
  'DeviceDefenderNotificationRole',
  'IotLoggingRole',
  'JitrRuleErrorActionRole',
  'RemediationEventsRole',
  'RemediationStateMachineRole',
  'TelemetryRuleRole',
];

beforeAll(async () => {
  proof = await proveServices(template);
  const lines = [
    '| service role | used by | requests checked | denied | actions granted | unused grants |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of proof.roles) {
    lines.push(
      `| ${r.role.logicalId} | ${r.principals.join(', ')} | ${r.verdicts.length} | ${r.denied.length} | ${new Set(r.granted.map((g) => g.action)).size} | ${r.unused.map((u) => `${u.action} ${u.resource}`).join('<br>') || '-'} |`,
    );
  }
  lines.push(
    '',
    `service-principal requests checked: ${proof.principalVerdicts.length}, denied: ${proof.principalDenied.length}`,
  );
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  writeFileSync(join(ROOT, 'node_modules', '.cache', 'iam-services-report.md'), `${lines.join('\n')}\n`);
});

const role = (id: string) => {
  const r = proof.roles.find((x) => x.role.logicalId === id);
  if (r === undefined) throw new Error(`${id} is used by no derived request`);
  return r;
};

describe('the requests services make for the platform', () => {
  it('are derived for every integration of the template: none is left unmodelled', () => {
    expect(proof.unmapped).toEqual([]);
  });

  it('use every role that trusts a service, except the ones proven elsewhere or AWS-managed (listed with why)', () => {
    expect(proof.roles.map((r) => r.role.logicalId).sort()).toEqual(SERVICE_ROLES);
    expect(Object.fromEntries(proof.unprovenRoles.map((r) => [r.role, r.managedPolicies]))).toEqual({
      EcuCredentialProviderRole: [],
      DeviceDefenderAuditRole: ['arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit'],
      ApiGatewayCloudWatchRole: ['arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
    });
    expect(Object.keys(PROVEN_ELSEWHERE).sort()).toEqual(proof.unprovenRoles.map((r) => r.role).sort());
  });

  it('include one invocation per Task of the state machine, on the unqualified function ARN', () => {
    const invoked = role('RemediationStateMachineRole')
      .verdicts.filter((v) => v.request.action === 'lambda:InvokeFunction')
      .map((v) => v.request.resource.split(':function:')[1]);
    expect(new Set(invoked)).toEqual(
      new Set(
        [
          'Classify',
          'Quarantine',
          'DeactivateCertificate',
          'RevokeCertificate',
          'RotateCertificate',
          'FixPolicy',
          'Notify',
          'OpenTicket',
          'CloseFinding',
        ].map((s) => `cv-security-dev-remediation${s}`),
      ),
    );
  });
});

describe.each(SERVICE_ROLES)('%s', (id) => {
  it('allows every request its service makes with it (with the queue, topic and key policies)', () => {
    const denied = role(id).denied.map(
      (v) =>
        `${id}: ${v.request.action} on ${v.request.resource} (${v.request.origin}) is denied: ${v.reason}`,
    );
    expect(denied).toEqual([]);
  });

  it('trusts only the services that use it, and only on behalf of this account (aws:SourceAccount: no confused deputy)', () => {
    const { own, otherAccount } = role(id).assume;
    expect(own.length).toBeGreaterThan(0);
    expect(own.filter((v) => !v.allowed).map((v) => `${v.request.origin}: ${v.reason}`)).toEqual([]);
    expect(otherAccount.filter((v) => v.allowed).map((v) => v.request.origin)).toEqual([]);
    const trusted = template
      .trustPolicy(id)
      .Statement.flatMap((s) => [(s.Principal as { Service?: string | string[] }).Service ?? []].flat());
    expect(trusted.sort()).toEqual(role(id).principals);
  });

  it('grants nothing that no request uses', () => {
    expect(
      role(id).unused.map(
        (g) => `${id}: ${g.statement} grants ${g.action} on ${g.resource}, which no request uses`,
      ),
    ).toEqual([]);
  });

  it('cannot use a KMS key except through the service that encrypts with it (no direct Decrypt/GenerateDataKey)', async () => {
    const r = role(id);
    for (const v of r.verdicts.filter((x) => x.allowed && x.request.action.startsWith('kms:'))) {
      const { 'kms:ViaService': _via, ...direct } = v.request.context;
      const verdict = await evaluate(
        { ...v.request, context: direct },
        {
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${r.role.arn.split('/').pop()}/service`,
          policies: r.role.policies,
        },
        template.resourcePolicy(v.request.resource),
      );
      expect(
        verdict.allowed,
        `${id}: ${v.request.action} on ${v.request.resource} without kms:ViaService`,
      ).toBe(false);
    }
  });
});

describe('services acting as themselves (resource policies only)', () => {
  it('every invocation (IoT rules, API Gateway, CloudWatch Logs) and every EventBridge dead-letter or log-group key use is allowed', () => {
    expect(proof.principalVerdicts.length).toBeGreaterThan(0);
    expect(
      proof.principalDenied.map(
        (v) => `${v.request.origin}: ${v.request.action} on ${v.request.resource} is denied: ${v.reason}`,
      ),
    ).toEqual([]);
  });

  it('every Lambda permission is used by an invoker the template defines', () => {
    expect(proof.unusedPermissions).toEqual([]);
  });

  it('every Lambda permission for a service is scoped to a source in this account (SourceArn or SourceAccount)', () => {
    const loose = template.ofType('AWS::Lambda::Permission').filter(([pid, r]) => {
      const p = template.resolve(r.Properties, pid) as {
        Principal: string;
        SourceArn?: string;
        SourceAccount?: string;
      };
      if (!p.Principal.endsWith('.amazonaws.com')) return false;
      return !(p.SourceAccount === ACCOUNT || p.SourceArn?.split(':')[4] === ACCOUNT);
    });
    expect(loose.map(([pid]) => pid)).toEqual([]);
  });

  it('the same invocations from another rule, API, log group or account are denied', async () => {
    const invocations = proof.principalVerdicts.filter((v) => v.request.action === 'lambda:InvokeFunction');
    expect(invocations.length).toBeGreaterThan(0);
    for (const v of invocations) {
      const source = String(v.request.context['aws:SourceArn']);
      const fields = source.split(':');
      // The source's own name replaced: another rule, another API, another log group.
      const rest = fields
        .slice(5)
        .join(':')
        .replace(/^(rule\/|log-group:)?[^/:]+/, '$1other');
      for (const context of [
        { 'aws:SourceArn': [...fields.slice(0, 5), rest].join(':'), 'aws:SourceAccount': ACCOUNT },
        { 'aws:SourceArn': source.replace(ACCOUNT, '111122223333'), 'aws:SourceAccount': '111122223333' },
      ]) {
        if (context['aws:SourceArn'] === source) continue;
        const verdict = await evaluate(
          { ...v.request, context },
          { arn: (v.request as ServiceRequest).principal, policies: [] },
          template.resourcePolicy(v.request.resource),
        );
        expect(verdict.allowed, `${v.request.origin} from ${context['aws:SourceArn']}`).toBe(false);
      }
    }
  });
});
