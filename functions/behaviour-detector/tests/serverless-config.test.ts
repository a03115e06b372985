import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lintIamStatements } from '@cv/policy';
import { ConfigError } from '@cv/runtime';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { accountIdOf, loadConfig } from '../src/config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const cfnTags = [
  { tag: '!GetAtt', resolve: (s: string) => ({ 'Fn::GetAtt': s.split('.') }) },
  { tag: '!Sub', resolve: (s: string) => ({ 'Fn::Sub': s }) },
  { tag: '!Ref', resolve: (s: string) => ({ Ref: s }) },
];
type Fn = {
  environment: Record<string, unknown>;
  iamRoleStatements: Array<{ Action: string[]; Resource: unknown; Condition?: unknown }>;
  events: Array<Record<string, Record<string, unknown>>>;
};
const file = parse(readFileSync(`${ROOT}serverless/functions/behaviour-detector.yml`, 'utf8'), {
  customTags: cfnTags,
}) as Record<string, Fn>;
const resolve = (v: unknown) =>
  typeof v === 'string'
    ? v
        .replace(/\$\{self:service\}/g, 'cv-security')
        .replace(/\$\{sls:stage\}/g, 'dev')
        .replace(/\$\{self:custom\.names\.ecuRegistryTable\}/g, 'cv-security-dev-ecu-registry')
    : 'unresolved';

describe('serverless/functions/behaviour-detector.yml', () => {
  for (const name of ['behaviourPresence', 'behaviourCounters']) {
    const fn = file[name];
    const env = Object.fromEntries(Object.entries(fn?.environment ?? {}).map(([k, v]) => [k, resolve(v)]));

    it(`${name}: sets what loadConfig needs; the required variables are required`, () => {
      expect(loadConfig({ AWS_REGION: 'eu-west-1', ...env })).toMatchObject({
        roleSampleModulo: 256,
        table: 'cv-security-dev-behaviour',
      });
      for (const v of ['BEHAVIOUR_TABLE', 'ECU_REGISTRY_TABLE', 'FINDING_PROVENANCE_TABLE']) {
        expect(() => loadConfig({ AWS_REGION: 'eu-west-1', ...env, [v]: undefined }), v).toThrow(ConfigError);
      }
    });

    it(`${name}: has a least-privilege role; provenance writes only under its GeneratorId; registry read of the role only`, () => {
      const statements = fn?.iamRoleStatements ?? [];
      expect(lintIamStatements(statements)).toEqual([]);
      const provenance = statements.find((s) =>
        JSON.stringify(s.Resource).includes('FindingProvenanceTable'),
      );
      expect(provenance?.Action).toEqual(['dynamodb:PutItem']);
      expect(JSON.stringify(provenance?.Condition)).toContain('cv-security/behaviour-detector/*');
      const registry = statements.find((s) => JSON.stringify(s.Resource).includes('EcuRegistryTable'));
      expect(registry?.Action).toEqual(['dynamodb:GetItem']);
      expect(JSON.stringify(registry?.Condition)).toContain(
        '"dynamodb:Attributes":["ecuId","role","thingName"]',
      );
    });
  }

  it('the presence rule reads the lifecycle topics; the stream only counter items', () => {
    expect(file.behaviourPresence?.events[0]?.iot?.sql).toBe("SELECT * FROM '$aws/events/presence/+/+'");
    expect(JSON.stringify(file.behaviourCounters?.events[0]?.stream?.filterPatterns)).toBe(
      '[{"dynamodb":{"Keys":{"sk":{"S":[{"prefix":"b#"}]}}}}]',
    );
  });

  it('takes the account id from the function ARN, else from ACCOUNT_ID, else fails naming it', () => {
    expect(accountIdOf('arn:aws:lambda:eu-west-1:123456789012:function:x', {})).toBe('123456789012');
    expect(() => accountIdOf(undefined, {})).toThrow(/ACCOUNT_ID/);
  });
});
