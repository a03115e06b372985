// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IoT/IAM policy variables are literal ${...} strings
import { describe, expect, it } from 'vitest';
import {
  analyzeIotPolicy,
  ECU_ROLES,
  InvalidPolicyContextError,
  IOT_POLICY_MAX_CHARS,
  iotPolicyName,
  iotPolicySize,
  proposeLeastPrivilege,
  ROLES_WITH_SHADOW,
  renderIotPolicy,
  renderQuarantinePolicy,
  roleFromPolicyName,
} from '../src/index.js';

const ctx = { region: 'eu-west-1', accountId: '123456789012', roleAlias: 'cv-security-dev-ecu' };
/** Longest realistic context: a long region name and a 128-character role alias. */
const worst = { region: 'ap-southeast-2', accountId: '123456789012', roleAlias: 'r'.repeat(128) };

function actionsOf(doc: { Statement: { Action: string | string[] }[] }): string[] {
  return doc.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}
function resourcesFor(doc: ReturnType<typeof renderIotPolicy>, action: string): string[] {
  return doc.Statement.filter((s) => actionsOf({ Statement: [s] }).includes(action)).flatMap((s) =>
    Array.isArray(s.Resource) ? s.Resource : [s.Resource],
  );
}

describe('renderIotPolicy', () => {
  it.each(ECU_ROLES)(
    '%s: passes the analyzer and stays under 2,048 characters without whitespace',
    (role) => {
      // Prepare
      const doc = renderIotPolicy(role, ctx);
      const pretty = JSON.stringify(doc, null, 2);

      // Act
      const findings = analyzeIotPolicy(doc);
      const size = iotPolicySize(pretty);

      // Assess
      expect(findings).toEqual([]);
      expect(size).toBe(JSON.stringify(doc).length);
      expect(size).toBeLessThan(IOT_POLICY_MAX_CHARS);
      expect(iotPolicySize(renderIotPolicy(role, worst))).toBeLessThan(IOT_POLICY_MAX_CHARS);
    },
  );

  it.each(ECU_ROLES)('%s: connects only as its own thing with the certificate attached', (role) => {
    const doc = renderIotPolicy(role, ctx);
    const connect = doc.Statement.filter((s) => s.Action === 'iot:Connect');
    expect(connect).toEqual([
      {
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: 'arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}',
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
    ]);
  });

  it.each(ECU_ROLES)('%s: every MQTT resource is pinned to the connected thing', (role) => {
    const doc = renderIotPolicy(role, ctx);
    const mqtt = ['iot:Publish', 'iot:Subscribe', 'iot:Receive'].flatMap((a) => resourcesFor(doc, a));
    expect(mqtt.length).toBeGreaterThan(0);
    for (const r of mqtt) {
      expect(r).toMatch(
        /^arn:aws:iot:eu-west-1:123456789012:topic(filter)?\/(ecus|\$aws\/things)\/\$\{iot:Connection\.Thing\.ThingName\}\//,
      );
    }
    expect(resourcesFor(doc, 'iot:Publish')).toEqual(
      expect.arrayContaining([
        'arn:aws:iot:eu-west-1:123456789012:topic/ecus/${iot:Connection.Thing.ThingName}/telemetry',
        'arn:aws:iot:eu-west-1:123456789012:topic/ecus/${iot:Connection.Thing.ThingName}/command-results',
        'arn:aws:iot:eu-west-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/jobs/*',
      ]),
    );
    expect(resourcesFor(doc, 'iot:Subscribe')).toContain(
      'arn:aws:iot:eu-west-1:123456789012:topicfilter/ecus/${iot:Connection.Thing.ThingName}/commands',
    );
    expect(resourcesFor(doc, 'iot:Receive')).toContain(
      'arn:aws:iot:eu-west-1:123456789012:topic/ecus/${iot:Connection.Thing.ThingName}/commands',
    );
    // The device never publishes to its own command topic (only the cloud does).
    expect(resourcesFor(doc, 'iot:Publish').some((r) => r.endsWith('/commands'))).toBe(false);
    expect(resourcesFor(doc, 'iot:AssumeRoleWithCertificate')).toEqual([
      'arn:aws:iot:eu-west-1:123456789012:rolealias/cv-security-dev-ecu',
    ]);
  });

  it.each(ECU_ROLES)('%s: shadow access only for the roles that keep a shadow', (role) => {
    const doc = renderIotPolicy(role, ctx);
    const shadowTopics = JSON.stringify(doc).match(/\/shadow\//g) ?? [];
    if (ROLES_WITH_SHADOW.includes(role)) expect(shadowTopics.length).toBe(4);
    else expect(shadowTopics.length).toBe(0);
  });

  it('renders the same document for the same inputs, and uses the partition', () => {
    expect(renderIotPolicy('adas', ctx)).toEqual(renderIotPolicy('adas', ctx));
    expect(
      JSON.stringify(renderIotPolicy('adas', { ...ctx, region: 'cn-north-1', partition: 'aws-cn' })),
    ).toContain('arn:aws-cn:iot:cn-north-1:');
  });

  it.each([
    [{ ...ctx, region: '*' }, 'region'],
    [{ ...ctx, region: 'eu-west-1:x' }, 'region'],
    [{ ...ctx, accountId: '12345' }, 'accountId'],
    [{ ...ctx, accountId: '*' }, 'accountId'],
    [{ ...ctx, roleAlias: '*' }, 'roleAlias'],
    [{ ...ctx, roleAlias: 'a/b' }, 'roleAlias'],
    [{ ...ctx, roleAlias: '' }, 'roleAlias'],
    [{ ...ctx, partition: 'aws:x' }, 'partition'],
  ])('rejects a malformed context %o', (bad, field) => {
    expect(() => renderIotPolicy('gateway', bad)).toThrow(InvalidPolicyContextError);
    try {
      renderIotPolicy('gateway', bad);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidPolicyContextError);
      expect((error as InvalidPolicyContextError).field).toBe(field);
    }
  });

  it('rejects an unknown role', () => {
    expect(() => renderIotPolicy('admin' as never, ctx)).toThrow(InvalidPolicyContextError);
  });
});

describe('proposeLeastPrivilege', () => {
  it.each(ECU_ROLES)('%s: proposes the role template, which has no finding', (role) => {
    const proposal = proposeLeastPrivilege(role, ctx);
    expect(proposal).toEqual(renderIotPolicy(role, ctx));
    expect(analyzeIotPolicy(JSON.stringify(proposal))).toEqual([]);
  });
});

describe('renderQuarantinePolicy', () => {
  it('denies every IoT action on every resource and grants nothing', () => {
    const doc = renderQuarantinePolicy();
    expect(doc).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'iot:*', Resource: '*' }],
    });
    expect(doc.Statement.some((s) => s.Effect === 'Allow')).toBe(false);
    expect(analyzeIotPolicy(doc)).toEqual([]);
  });
});

describe('policy names', () => {
  it.each(ECU_ROLES)('%s: one name per role, and back', (role) => {
    const name = iotPolicyName(role, { prefix: 'cv-security-dev' });
    expect(name).toBe(`cv-security-dev-ecu-${role}`);
    expect(roleFromPolicyName(name, 'cv-security-dev')).toBe(role);
  });

  it.each([
    ['cv-security-dev-ecu-gateway', 'cv-security-prod'],
    ['cv-security-dev-ecu-', 'cv-security-dev'],
    ['cv-security-dev-ecu-gateway2', 'cv-security-dev'],
    ['cv-security-dev-ecu-Gateway', 'cv-security-dev'],
    ['x-cv-security-dev-ecu-gateway', 'cv-security-dev'],
    ['cv-security-dev-quarantine', 'cv-security-dev'],
  ])('%s with prefix %s is not one of ours', (name, prefix) => {
    expect(roleFromPolicyName(name, prefix)).toBeUndefined();
  });

  it('rejects a prefix that makes an invalid policy name', () => {
    expect(() => iotPolicyName('body', { prefix: 'has space' })).toThrow(InvalidPolicyContextError);
    expect(() => iotPolicyName('body', { prefix: 'p'.repeat(120) })).toThrow(InvalidPolicyContextError);
  });
});
