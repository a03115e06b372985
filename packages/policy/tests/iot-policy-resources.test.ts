// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation / Serverless variables are literal ${...} strings
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ecuPolicyResources, TEMPLATE_POLICY_PREFIX } from '../scripts/ecu-policies.js';
import {
  analyzeIotPolicy,
  ECU_ROLES,
  InvalidPolicyContextError,
  iotPolicyLogicalId,
  iotPolicyName,
  renderIotPolicy,
  renderIotPolicyResources,
  resolveIotPolicyResources,
} from '../src/index.js';

const deployed = {
  partition: 'aws',
  region: 'eu-central-1',
  accountId: '210987654321',
  roleAlias: 'cv-security-prod-ecu',
  policyNamePrefix: 'cv-security-prod',
};

describe('renderIotPolicyResources', () => {
  it('declares one AWS::IoT::Policy per ECU role, each resolving to exactly renderIotPolicy under iotPolicyName', () => {
    const { Resources } = ecuPolicyResources();
    expect(Object.keys(Resources).sort()).toEqual(ECU_ROLES.map(iotPolicyLogicalId).sort());
    const resolved = resolveIotPolicyResources(Resources, deployed, TEMPLATE_POLICY_PREFIX);
    expect(resolved).toHaveLength(ECU_ROLES.length);
    for (const role of ECU_ROLES) {
      const name = iotPolicyName(role, { prefix: deployed.policyNamePrefix });
      const policy = resolved.find((p) => p.policyName === name);
      expect(policy?.document).toEqual(renderIotPolicy(role, deployed));
    }
  });

  it('resolves for another partition, region and account too (nothing of the placeholders is left)', () => {
    const values = { ...deployed, partition: 'aws-cn', region: 'cn-north-1', accountId: '000011112222' };
    for (const { policyName, document } of resolveIotPolicyResources(
      ecuPolicyResources().Resources,
      values,
      TEMPLATE_POLICY_PREFIX,
    )) {
      const role = ECU_ROLES.find(
        (r) => policyName === iotPolicyName(r, { prefix: values.policyNamePrefix }),
      );
      expect(role).toBeDefined();
      if (role) expect(document).toEqual(renderIotPolicy(role, values));
      expect(JSON.stringify(document)).not.toMatch(/CFN_|cfnregion|cfnpartition|\$\{!|\$\{AWS::/);
    }
  });

  it('leaves no finding of the policy analyzer: no iot:*, no Resource *, every topic pinned to the thing', () => {
    for (const { document } of resolveIotPolicyResources(
      ecuPolicyResources().Resources,
      deployed,
      TEMPLATE_POLICY_PREFIX,
    )) {
      expect(analyzeIotPolicy(document)).toEqual([]);
      const actions = document.Statement.flatMap((s) => [s.Action].flat());
      const resources = document.Statement.flatMap((s) => [s.Resource].flat());
      expect(actions.some((a) => a.includes('*'))).toBe(false);
      expect(resources).not.toContain('*');
    }
  });

  it('rejects a role alias logical id that is not one', () => {
    expect(() =>
      renderIotPolicyResources({ policyNamePrefix: 'p', roleAliasLogicalId: 'Ecu}${AWS::StackName' }),
    ).toThrow(InvalidPolicyContextError);
  });

  it('refuses to resolve a reference it does not know, or a policy of another prefix', () => {
    const resources = {
      P: {
        Type: 'AWS::IoT::Policy',
        Properties: { PolicyName: 'x-ecu-adas', PolicyDocument: { Resource: { 'Fn::Sub': '${Unknown}' } } },
      },
    };
    expect(() => resolveIotPolicyResources(resources, deployed, 'x')).toThrow(InvalidPolicyContextError);
    expect(() => resolveIotPolicyResources(ecuPolicyResources().Resources, deployed, 'other-prefix')).toThrow(
      InvalidPolicyContextError,
    );
  });
});

describe('serverless/resources/ecu-policies.yml', () => {
  const path = fileURLToPath(new URL('../../../serverless/resources/ecu-policies.yml', import.meta.url));
  const text = readFileSync(path, 'utf8');

  it('is exactly what the library renders (regenerate with pnpm --filter @cv/policy run render-resources)', () => {
    expect(parse(text)).toEqual(ecuPolicyResources());
    expect(text.startsWith('# GENERATED')).toBe(true);
  });

  it('has no ${...} the Serverless Framework would try to resolve, other than its own sources and CloudFormation refs', () => {
    const variables = text.match(/\$\{[^}]*\}/g) ?? [];
    expect(variables.length).toBeGreaterThan(0);
    for (const v of variables)
      expect(v).toMatch(/^\$\{(!iot:|self:service\}|sls:stage\}|AWS::|EcuRoleAlias\})/);
  });

  it('quotes the policy Version so no YAML 1.1 parser reads it as a date', () => {
    expect(text).not.toMatch(/Version: 2012-10-17/);
    expect(text).toMatch(/Version: "2012-10-17"/);
  });

  it('is included in serverless.yml', () => {
    const serverless = readFileSync(
      fileURLToPath(new URL('../../../serverless.yml', import.meta.url)),
      'utf8',
    );
    expect(serverless).toContain('${file(serverless/resources/ecu-policies.yml)}');
  });
});
