// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IoT policy variables are literal ${...} strings
import { describe, expect, it } from 'vitest';
import {
  analyzeIotPolicy,
  ECU_ROLES,
  isThingScoped,
  MalformedPolicyError,
  PolicyError,
  renderIotPolicy,
  renderQuarantinePolicy,
  severityOf,
} from '../src/index.js';
import { ARN, COMPLIANT_CORPUS, PERMISSIVE_CORPUS, T } from './corpus.js';

const ctx = { region: 'eu-west-1', accountId: '123456789012', roleAlias: 'cv-security-dev-ecu' };

describe('analyzeIotPolicy: permissive corpus', () => {
  it('holds at least 15 distinct patterns', () => {
    expect(new Set(PERMISSIVE_CORPUS.map((e) => JSON.stringify(e.policy))).size).toBe(
      PERMISSIVE_CORPUS.length,
    );
    expect(PERMISSIVE_CORPUS.length).toBeGreaterThanOrEqual(15);
  });

  it.each(PERMISSIVE_CORPUS)('$name -> $code', ({ policy, code, statement }) => {
    // Act
    const findings = analyzeIotPolicy(policy);

    // Assess
    const hit = findings.find((f) => f.code === code);
    expect(hit, JSON.stringify(findings, null, 2)).toBeDefined();
    expect(hit?.statement).toBe(statement);
    expect(hit?.severity).toBe(severityOf(code));
    expect(hit?.reason.length).toBeGreaterThan(20);
  });

  it.each(PERMISSIVE_CORPUS)('$name: the same verdict from the JSON text GetPolicy returns', ({ policy }) => {
    expect(analyzeIotPolicy(JSON.stringify(policy, null, 2))).toEqual(analyzeIotPolicy(policy));
  });

  it.each(PERMISSIVE_CORPUS)('$name: the role template fixes it', ({ policy }) => {
    expect(analyzeIotPolicy(policy).length).toBeGreaterThan(0);
    expect(analyzeIotPolicy(renderIotPolicy('gateway', ctx))).toEqual([]);
  });
});

describe('analyzeIotPolicy: least-privilege documents', () => {
  it.each(COMPLIANT_CORPUS)('$name: no finding', ({ policy }) => {
    expect(analyzeIotPolicy(policy)).toEqual([]);
  });

  it.each(ECU_ROLES)('%s template: no finding, also as pretty-printed JSON', (role) => {
    const doc = renderIotPolicy(role, ctx);
    expect(analyzeIotPolicy(doc)).toEqual([]);
    expect(analyzeIotPolicy(JSON.stringify(doc, null, 4))).toEqual([]);
  });

  it('the quarantine policy (an explicit Deny of everything) is not a finding', () => {
    expect(analyzeIotPolicy(renderQuarantinePolicy())).toEqual([]);
  });
});

describe('analyzeIotPolicy: details', () => {
  it('iot:* on "*" reports the wildcard and every broad data-plane family', () => {
    const codes = analyzeIotPolicy({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
    }).map((f) => f.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        'WILDCARD_ACTION',
        'CONTROL_PLANE_ACTION',
        'CLIENT_ID_NOT_BOUND_TO_THING',
        'TOPIC_NOT_THING_SCOPED',
        'TOPIC_FILTER_NOT_THING_SCOPED',
        'SHADOW_NOT_THING_SCOPED',
        'JOB_EXECUTION_NOT_THING_SCOPED',
        'ROLE_ALIAS_NOT_SCOPED',
      ]),
    );
  });

  it('reports each broad resource once, naming it', () => {
    const findings = analyzeIotPolicy({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'iot:Connect',
          Resource: `${ARN}:client/${T}`,
          Condition: { Bool: { 'iot:Connection.Thing.IsAttached': true } },
        },
        {
          Effect: 'Allow',
          Action: ['iot:Publish', 'iot:Publish'],
          Resource: [
            `${ARN}:topic/ecus/${T}/telemetry`,
            `${ARN}:topic/a/*`,
            `${ARN}:topic/b/*`,
            `${ARN}:topic/a/*`,
          ],
        },
      ],
    });
    expect(findings.map((f) => [f.code, f.statement, f.resource])).toEqual([
      ['TOPIC_NOT_THING_SCOPED', 1, `${ARN}:topic/a/*`],
      ['TOPIC_NOT_THING_SCOPED', 1, `${ARN}:topic/b/*`],
    ]);
  });

  it('IsAttached may be a boolean or a list of "true" (case-insensitive keys)', () => {
    for (const condition of [
      { Bool: { 'iot:Connection.Thing.IsAttached': true } },
      { bool: { 'IOT:Connection.Thing.IsAttached': ['true'] } },
    ]) {
      const findings = analyzeIotPolicy({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/${T}`, Condition: condition },
        ],
      });
      expect(findings).toEqual([]);
    }
  });

  it('${iot:ClientId} topics are broad when any statement lets the device pick its client id', () => {
    const bound = { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/fixed-id` };
    const topic = {
      Effect: 'Allow',
      Action: 'iot:Publish',
      Resource: `${ARN}:topic/ecus/\${iot:ClientId}/telemetry`,
    };
    expect(analyzeIotPolicy({ Version: '2012-10-17', Statement: [bound, topic] })).toEqual([]);
    for (const loose of [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/*` },
      { Effect: 'Allow', Action: 'iot:*', Resource: `${ARN}:client/x*` },
      { Effect: 'Allow', NotAction: 'iot:Publish', Resource: `${ARN}:client/fixed-id` },
      { Effect: 'Allow', Action: 'iot:Connect', NotResource: `${ARN}:client/admin` },
    ]) {
      const codes = analyzeIotPolicy({ Version: '2012-10-17', Statement: [bound, topic, loose] })
        .filter((f) => f.statement === 1)
        .map((f) => f.code);
      expect(codes).toEqual(['TOPIC_NOT_THING_SCOPED']);
    }
  });

  it('a resource of another type does not count for an action (publish on a client ARN grants nothing)', () => {
    expect(
      analyzeIotPolicy({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:client/*` }],
      }),
    ).toEqual([]);
  });

  it('Deny statements are never findings, whatever they contain', () => {
    expect(
      analyzeIotPolicy({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', Action: '*', Resource: '*' },
          { Effect: 'Deny', NotAction: 'iot:Connect', NotResource: '*' },
          { Effect: 'Deny', Action: 'iot:DeleteThing', Resource: `${ARN}:thing/*` },
        ],
      }),
    ).toEqual([]);
  });
});

describe('isThingScoped', () => {
  it.each([
    ['ecus/${iot:Connection.Thing.ThingName}/telemetry', true],
    ['ecus/${iot:Connection.Thing.ThingName}/*', true],
    ['${iot:Connection.Thing.ThingName}', true],
    ['$aws/things/${iot:Connection.Thing.ThingName}/jobs/*', true],
    ['fleet/announcements', true],
    ['ecus/*/telemetry', false],
    ['ecus/${iot:Connection.Thing.ThingName}*', false],
    ['ecus/x${iot:Connection.Thing.ThingName}/y/*', false],
    ['*/${iot:Connection.Thing.ThingName}/telemetry', false],
    ['ecus/?/telemetry', false],
  ])('%s -> %s', (name, expected) => {
    expect(isThingScoped(name, '*?', false)).toBe(expected);
  });

  it('MQTT wildcards count in topic filters only', () => {
    expect(isThingScoped('ecus/+/commands', '*?', false)).toBe(true);
    expect(isThingScoped('ecus/+/commands', '*?+#', false)).toBe(false);
  });

  it('${iot:ClientId} scopes only when client ids are bound to the thing', () => {
    expect(isThingScoped('ecus/${iot:ClientId}/*', '*?', true)).toBe(true);
    expect(isThingScoped('ecus/${iot:ClientId}/*', '*?', false)).toBe(false);
  });
});

describe('analyzeIotPolicy: malformed documents', () => {
  it.each([
    ['not JSON', '{"Version": "2012-10-17", "Statement": ['],
    ['JSON but an array', '[]'],
    ['null', null],
    ['a number', 42],
    ['an array', [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }]],
    ['no Statement', { Version: '2012-10-17' }],
    ['an empty Statement list', { Version: '2012-10-17', Statement: [] }],
    ['a statement that is a string', { Statement: ['iot:*'] }],
    ['an Effect other than Allow/Deny', { Statement: [{ Effect: 'allow', Action: 'iot:*', Resource: '*' }] }],
    ['no Effect', { Statement: [{ Action: 'iot:*', Resource: '*' }] }],
    ['no Action', { Statement: [{ Effect: 'Allow', Resource: '*' }] }],
    ['an empty Action list', { Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] }],
    ['an Action that is a number', { Statement: [{ Effect: 'Allow', Action: 5, Resource: '*' }] }],
    ['an empty action name', { Statement: [{ Effect: 'Allow', Action: [''], Resource: '*' }] }],
    ['no Resource', { Statement: [{ Effect: 'Allow', Action: 'iot:Connect' }] }],
    [
      'a Resource object',
      { Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: { Ref: 'X' } }] },
    ],
    [
      'both Action and NotAction',
      { Statement: [{ Effect: 'Allow', Action: 'a', NotAction: 'b', Resource: '*' }] },
    ],
    [
      'both Resource and NotResource',
      { Statement: [{ Effect: 'Allow', Action: 'a', Resource: '*', NotResource: '*' }] },
    ],
    ['an unknown statement element', { Statement: [{ Effect: 'Allow', Actions: 'iot:*', Resource: '*' }] }],
    ['an unknown policy element', { Version: '2012-10-17', Statements: [] }],
    [
      'a numeric Version',
      { Version: 2012, Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] },
    ],
    [
      'a Condition that is a string',
      { Statement: [{ Effect: 'Allow', Action: 'a', Resource: '*', Condition: 'x' }] },
    ],
    [
      'a Condition block that is a list',
      { Statement: [{ Effect: 'Allow', Action: 'a', Resource: '*', Condition: { Bool: [] } }] },
    ],
  ])('%s -> MalformedPolicyError', (_name, doc) => {
    let caught: unknown;
    try {
      analyzeIotPolicy(doc);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MalformedPolicyError);
    expect(caught).toBeInstanceOf(PolicyError);
    expect((caught as MalformedPolicyError).path).toMatch(/^(\$|Statement)/);
  });

  it('points at the offending element', () => {
    expect(() =>
      analyzeIotPolicy({
        Statement: [
          { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
          { Effect: 'Allow', Action: ['iot:Publish', 7], Resource: '*' },
        ],
      }),
    ).toThrow(expect.objectContaining({ path: 'Statement[1].Action[1]' }));
  });
});
