import { ThrottlingException, UnauthorizedException } from '@aws-sdk/client-iot';
import { analyzeIotPolicy, renderQuarantinePolicy } from '@cv/policy';
import aslValidator from 'asl-validator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Definition, execute, readPath, writePath } from './asl-driver.js';
import { CERT, eventNames, loadEvent, POLICY, THING } from './corpus.js';
import type { World } from './fake-aws.js';
import { context, GROUP, STEP_ENV } from './harness.js';
import {
  exportOf,
  type Handlers,
  invoker as invokerOf,
  load,
  machine,
  seededWorld,
  walk as walkMachine,
} from './machine.js';

const resources = load('serverless/resources/remediation.yml') as {
  Resources: Record<string, { Properties: Record<string, unknown> }>;
};

let h: Handlers;
const saved = { ...process.env };
beforeAll(async () => {
  Object.assign(process.env, STEP_ENV);
  h = (await import('../src/handler.js')) as unknown as Handlers;
});
afterAll(() => {
  process.env = saved;
});

const ctx = context();
let world: World;
beforeEach(() => {
  world = seededWorld();
});
afterEach(() => world.dispose());

const walk = (event: unknown) => walkMachine(h, ctx, event);
const invoker = (tasks: string[]) => invokerOf(h, ctx, tasks);

describe('state machine definition', () => {
  it('is valid Amazon States Language (asl-validator)', () => {
    const definition = JSON.parse(
      JSON.stringify(machine.definition, (key, value) =>
        key === 'Resource'
          ? `arn:aws:lambda:eu-west-1:123456789012:function:${value['Fn::GetAtt'][0]}`
          : value,
      ),
    );

    const result = aslValidator(definition, { checkArn: true, checkPaths: true });

    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('every Task runs a function of remediation-steps.yml whose handler exports that step', () => {
    const tasks = Object.values(machine.definition.States).filter((s) => s.Type === 'Task');

    for (const task of tasks) {
      const id = (task.Resource as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] ?? '';
      expect(typeof h[exportOf.get(id) ?? '']).toBe('function');
    }
    expect(new Set([...exportOf.values()])).toEqual(
      new Set([
        'classify',
        'quarantine',
        'deactivateCertificate',
        'revokeCertificate',
        'rotateCertificate',
        'fixPolicy',
        'notify',
        'openTicket',
        'closeFinding',
      ]),
    );
  });

  it('retries transient errors and catches everything else on every Task', () => {
    for (const [name, state] of Object.entries(machine.definition.States)) {
      if (state.Type !== 'Task') continue;
      const retry = JSON.stringify(state.Retry);
      expect(retry, name).toContain('TransientStepError');
      expect(retry, name).toContain('Lambda.TooManyRequestsException');
      expect(JSON.stringify(state.Catch), name).toContain('States.ALL');
    }
  });

  it('the quarantine policy is @cv/policy renderQuarantinePolicy()', () => {
    expect(resources.Resources.QuarantinePolicy?.Properties.PolicyDocument).toEqual(renderQuarantinePolicy());
  });
});

/** The alert ledger's claim, the publish, the ledger's sent mark. */
const ALERT = ['DynamoDB.UpdateItem', 'SNS.Publish', 'DynamoDB.UpdateItem'];

const COMPROMISE_WRITES = [
  'IoT.AddThingToThingGroup',
  'IoT.UpdateCertificate',
  'PCA.RevokeCertificate',
  'IoT.UpdateCertificate',
  'DynamoDB.UpdateItem',
  'DynamoDB.UpdateItem',
  'SNS.Publish',
  'DynamoDB.UpdateItem',
  'SSM.CreateOpsItem',
  'SecurityHub.BatchUpdateFindings',
];

/** Every playbook row: the corpus event, the tasks the machine runs, the AWS calls in order, the final status. */
const ROWS: Array<[string, string[], string[], string]> = [
  [
    'audit-iot-policy-overly-permissive',
    ['classify', 'fixPolicy', 'notify', 'openTicket', 'closeFinding'],
    [
      'IoT.GetPolicy',
      'IoT.ListPolicyVersions',
      'IoT.DeletePolicyVersion',
      'IoT.CreatePolicyVersion',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SSM.DescribeOpsItems',
      'SSM.CreateOpsItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'audit-device-certificate-shared',
    [
      'classify',
      'quarantine',
      'deactivateCertificate',
      'revokeCertificate',
      'rotateCertificate',
      'notify',
      'openTicket',
      'closeFinding',
    ],
    [
      'IoT.ListPrincipalThings',
      'IoT.ListTargetsForPolicy',
      'IoT.ListThingGroupsForThing',
      'IoT.AddThingToThingGroup',
      'IoT.DescribeCertificate',
      'IoT.UpdateCertificate',
      'IoT.DescribeCertificate',
      'PCA.RevokeCertificate',
      'IoT.UpdateCertificate',
      'DynamoDB.UpdateItem',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SSM.DescribeOpsItems',
      'SSM.CreateOpsItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'audit-conflicting-client-ids',
    [
      'classify',
      'quarantine',
      'deactivateCertificate',
      'revokeCertificate',
      'rotateCertificate',
      'notify',
      'openTicket',
      'closeFinding',
    ],
    [
      'IoT.ListTargetsForPolicy',
      'IoT.ListThingGroupsForThing',
      'IoT.AddThingToThingGroup',
      'IoT.ListThingPrincipals',
      'IoT.DescribeCertificate',
      'IoT.UpdateCertificate',
      'IoT.DescribeCertificate',
      'PCA.RevokeCertificate',
      'IoT.UpdateCertificate',
      'DynamoDB.UpdateItem',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SSM.DescribeOpsItems',
      'SSM.CreateOpsItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'audit-revoked-device-certificate-still-active',
    ['classify', 'deactivateCertificate', 'notify', 'closeFinding'],
    [
      'IoT.DescribeCertificate',
      'IoT.UpdateCertificate',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'audit-device-certificate-expiring',
    ['classify', 'rotateCertificate', 'notify', 'closeFinding'],
    [
      'IoT.ListPrincipalThings',
      'IoT.CreateJob',
      'DynamoDB.UpdateItem',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'audit-device-certificate-key-quality',
    ['classify', 'rotateCertificate', 'notify', 'closeFinding'],
    [
      'IoT.ListPrincipalThings',
      'IoT.CreateJob',
      'DynamoDB.UpdateItem',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'audit-ca-certificate-expiring',
    ['classify', 'notify', 'openTicket', 'closeFinding'],
    [
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SSM.DescribeOpsItems',
      'SSM.CreateOpsItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'NOTIFIED',
  ],
  [
    'audit-revoked-ca-certificate-still-active',
    ['classify', 'notify', 'openTicket', 'closeFinding'],
    [
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SSM.DescribeOpsItems',
      'SSM.CreateOpsItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'NOTIFIED',
  ],
  [
    'detect-authorization-failures',
    ['classify', 'quarantine', 'deactivateCertificate', 'notify', 'openTicket', 'closeFinding'],
    [
      'IoT.ListTargetsForPolicy',
      'IoT.ListThingGroupsForThing',
      'IoT.AddThingToThingGroup',
      'IoT.ListThingPrincipals',
      'IoT.DescribeCertificate',
      'IoT.UpdateCertificate',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SSM.DescribeOpsItems',
      'SSM.CreateOpsItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'own-authz-detector-finding',
    ['classify', 'quarantine', 'deactivateCertificate', 'notify', 'openTicket', 'closeFinding'],
    [
      'DynamoDB.GetItem',
      'IoT.ListPrincipalThings',
      'IoT.ListTargetsForPolicy',
      'IoT.ListThingGroupsForThing',
      'IoT.AddThingToThingGroup',
      'IoT.DescribeCertificate',
      'IoT.UpdateCertificate',
      'DynamoDB.UpdateItem',
      'SNS.Publish',
      'DynamoDB.UpdateItem',
      'SSM.DescribeOpsItems',
      'SSM.CreateOpsItem',
      'SecurityHub.BatchUpdateFindings',
    ],
    'RESOLVED',
  ],
  [
    'audit-unknown-check',
    ['classify', 'openTicket', 'closeFinding'],
    ['SSM.DescribeOpsItems', 'SSM.CreateOpsItem', 'SecurityHub.BatchUpdateFindings'],
    'NOTIFIED',
  ],
];

describe('state machine walk, per playbook row', () => {
  it.each(ROWS)('%s', async (name, tasks, calls, status) => {
    const event = loadEvent(name);
    const findingId = (event.detail as { findings: Array<{ Id: string }> }).findings[0]?.Id ?? '';

    const run = await walk(event);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path.at(-1)).toBe('Remediated');
    expect(run.tasks).toEqual(tasks);
    expect(world.log).toEqual(calls);
    expect(world.findings.get(findingId)?.status).toBe(status);
  });

  it('a second execution for the same finding changes nothing but re-closing: no second alert', async () => {
    const event = loadEvent('audit-device-certificate-shared');
    await walk(event);
    const afterFirst = [...world.writes];
    const state = {
      groups: structuredClone(world.groups),
      cert: world.certs.get(CERT)?.status,
      jobs: [...world.jobs.keys()],
      tickets: world.opsItems.length,
      registry: structuredClone(world.registry),
    };

    const second = await walk(event);

    expect(afterFirst).toEqual(COMPROMISE_WRITES);
    expect(second.status).toBe('SUCCEEDED');
    expect(world.writes.slice(afterFirst.length)).toEqual(['SecurityHub.BatchUpdateFindings']);
    expect(world.alerts).toHaveLength(1);
    expect(world.groups).toEqual(state.groups);
    expect(world.certs.get(CERT)?.status).toBe('REVOKED');
    expect([...world.jobs.keys()]).toEqual([]);
    expect(world.opsItems).toHaveLength(state.tickets);
    expect(world.registry).toEqual(state.registry);
  });

  it('leaves a least-privilege default version behind, and a second run keeps it', async () => {
    const event = loadEvent('audit-iot-policy-overly-permissive');
    await walk(event);
    const policy = world.policies.get(POLICY);
    const defaultDoc = policy?.versions.find((v) => v.id === policy.defaultId)?.doc ?? '';

    await walk(event);

    expect(analyzeIotPolicy(JSON.parse(defaultDoc))).toEqual([]);
    expect(policy?.versions).toHaveLength(5);
    expect(world.log.filter((c) => c === 'IoT.CreatePolicyVersion')).toHaveLength(1);
  });
});

describe('state machine failure paths', () => {
  it('retries a throttled step and carries on', async () => {
    world.failNext.set('IoT.AddThingToThingGroup', [
      new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }),
      new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }),
    ]);

    const run = await walk(loadEvent('detect-authorization-failures'));

    expect(run.status).toBe('SUCCEEDED');
    expect(world.log.filter((c) => c === 'IoT.AddThingToThingGroup')).toHaveLength(3);
    expect(world.groups.get(THING)?.has(GROUP)).toBe(true);
  });

  it('a failed step still alerts and closes the finding as NOTIFIED with what failed; later steps do not run', async () => {
    world.failNext.set('IoT.AddThingToThingGroup', [
      new UnauthorizedException({ message: 'not authorized', $metadata: {} }),
    ]);
    const event = loadEvent('audit-device-certificate-shared');
    const findingId = (event.detail as { findings: Array<{ Id: string }> }).findings[0]?.Id ?? '';

    const run = await walk(event);

    expect(run.status).toBe('FAILED');
    expect(run.error?.Error).toBe('RemediationFailed');
    expect(run.tasks).toEqual(['classify', 'quarantine', 'notify', 'closeFinding']);
    expect(world.log).not.toContain('IoT.UpdateCertificate');
    expect(world.log).not.toContain('IoT.CreateJob');
    expect(JSON.parse(world.alerts[0]?.message ?? '{}')).toMatchObject({
      outcome: 'failed',
      failure: { error: 'UnauthorizedException', message: 'not authorized' },
    });
    expect(world.findings.get(findingId)).toMatchObject({ status: 'NOTIFIED' });
    expect(world.findings.get(findingId)?.note).toContain('FAILED (UnauthorizedException: not authorized)');
  });

  it('a failure in the Private CA keeps the retry budget for transient errors only', async () => {
    world.failNext.set('PCA.RevokeCertificate', [
      Object.assign(new Error('denied'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    ]);
    const state = await h.classify?.(loadEvent('audit-device-certificate-shared'), ctx);
    const input = {
      ...(state as object),
      remaining: ['revokeCertificate', 'notify'],
      next: 'revokeCertificate',
    };
    const definition: Definition = { ...machine.definition, StartAt: 'NextAction' };

    const run = await execute(definition, input, invoker([]));

    expect(run.status).toBe('FAILED');
    expect(world.log.filter((c) => c === 'PCA.RevokeCertificate')).toHaveLength(1);
    expect(world.certs.get(CERT)?.status).toBe('ACTIVE');
  });

  it.each(['malformed-certificate-id', 'malformed-no-resources'])(
    '%s: classify fails, the alert goes out, no finding is touched',
    async (name) => {
      const run = await walk(loadEvent(name));

      expect(run.status).toBe('FAILED');
      expect(run.tasks).toEqual(['classify', 'notify']);
      expect(world.log).toEqual(ALERT);
      expect(JSON.parse(world.alerts[0]?.message ?? '{}')).toMatchObject({
        outcome: 'unclassifiable-finding',
        failure: { error: 'MalformedFindingError' },
      });
    },
  );

  it.each(['audit-suppressed', 'detect-archived', 'audit-check-summary'])(
    '%s: skipped, no AWS call',
    async (name) => {
      const run = await walk(loadEvent(name));

      expect(run.status).toBe('SUCCEEDED');
      expect(run.path).toEqual(['Classify', 'IsSkipped', 'NothingToDo']);
      expect(world.log).toEqual([]);
    },
  );
});

/** EventBridge content filtering, enough for our rule: exact values, prefix, suffix, arrays in the event, $or. */
function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern)) return false;
  return Object.entries(pattern as Record<string, unknown>).every(([key, sub]) => {
    if (key === '$or') return (sub as unknown[]).some((alt) => matchesPattern(alt, event));
    const values = (event as Record<string, unknown> | null)?.[key];
    if (Array.isArray(sub)) {
      const candidates = Array.isArray(values) ? values : [values];
      return candidates.some((v) => sub.some((m) => leafMatches(m, v)));
    }
    const nested = Array.isArray(values) ? values : [values];
    return nested.some((v) => matchesPattern(sub, v));
  });
}

function leafMatches(matcher: unknown, value: unknown): boolean {
  if (matcher !== null && typeof matcher === 'object') {
    const m = matcher as { prefix?: string; suffix?: string; 'Fn::Sub'?: string };
    if (typeof value !== 'string') return false;
    if (m.prefix !== undefined) return value.startsWith(m.prefix);
    if (m.suffix !== undefined) return value.endsWith(m.suffix);
    if (m['Fn::Sub'] !== undefined) {
      const resolved = m['Fn::Sub']
        .replace(/\$\{AWS::Partition\}/g, 'aws')
        .replace(/\$\{AWS::Region\}/g, 'eu-west-1')
        .replace(/\$\{AWS::AccountId\}/g, '123456789012');
      return value === resolved;
    }
    return false;
  }
  return matcher === value;
}

describe('EventBridge rule', () => {
  const pattern = machine.events[0]?.eventBridge.event;
  const active = eventNames().filter((n) => !['audit-suppressed', 'detect-archived'].includes(n));

  it.each(active)('starts the state machine for %s', (name) => {
    expect(matchesPattern(pattern, loadEvent(name))).toBe(true);
  });

  it.each(['audit-suppressed', 'detect-archived'])('ignores %s', (name) => {
    expect(matchesPattern(pattern, loadEvent(name))).toBe(false);
  });

  it('ignores our own update of a finding (status RESOLVED or NOTIFIED): no loop', () => {
    const event = loadEvent('audit-device-certificate-shared');
    const finding = (event.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
    finding.Workflow = { Status: 'RESOLVED' };

    expect(matchesPattern(pattern, event)).toBe(false);
  });

  it('ignores findings of other products, and own-account findings without our GeneratorId', () => {
    const other = loadEvent('audit-device-certificate-shared');
    const f1 = (other.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
    f1.ProductArn = 'arn:aws:securityhub:eu-west-1::product/aws/guardduty';
    const own = loadEvent('detect-authorization-failures');
    const f2 = (own.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
    f2.ProductArn = 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default';
    f2.GeneratorId = 'someone-else';

    expect(matchesPattern(pattern, other)).toBe(false);
    expect(matchesPattern(pattern, own)).toBe(false);
    f2.GeneratorId = 'cv-security/authz-detector';
    expect(matchesPattern(pattern, own)).toBe(true);
  });
});

describe('ASL driver', () => {
  it('runs Pass, Map and Choice as the States Language says', async () => {
    const definition: Definition = {
      StartAt: 'Seed',
      States: {
        Seed: { Type: 'Pass', Result: [1, 2, 3], ResultPath: '$.items', Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            StartAt: 'Double',
            States: { Double: { Type: 'Task', Resource: 'double', End: true } },
          },
          ResultPath: '$.doubled',
          Next: 'Big',
        },
        Big: {
          Type: 'Choice',
          Choices: [{ Variable: '$.doubled[2]', NumericGreaterThan: 5, Next: 'Yes' }],
          Default: 'No',
        },
        Yes: { Type: 'Succeed' },
        No: { Type: 'Fail', Error: 'Small' },
      },
    };

    const run = await execute(definition, {}, async (_r, input) => Number(input) * 2);

    expect(run).toMatchObject({ status: 'SUCCEEDED', output: { items: [1, 2, 3], doubled: [2, 4, 6] } });
    expect(run.path).toEqual(['Seed', 'Each', 'Double', 'Double', 'Double', 'Big', 'Yes']);
  });

  it('fails a Choice on a missing path, as Step Functions does', async () => {
    const definition: Definition = {
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Variable: '$.x', StringEquals: 'a', Next: 'S' }], Default: 'S' },
        S: { Type: 'Succeed' },
      },
    };

    const run = await execute(definition, {}, async () => null);

    expect(run).toMatchObject({ status: 'FAILED', error: { Error: 'States.Runtime' } });
  });

  it('reads and writes JSONPaths', () => {
    expect(readPath({ a: [{ b: 1 }] }, '$.a[0].b')).toBe(1);
    expect(readPath({}, '$.a.b')).toBeUndefined();
    expect(writePath({ a: 1 }, '$.e.f', 2)).toEqual({ a: 1, e: { f: 2 } });
    expect(writePath({ a: 1 }, null, 2)).toEqual({ a: 1 });
  });
});
