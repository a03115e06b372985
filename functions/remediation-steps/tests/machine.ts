/**
 * The state machine of serverless/stepfunctions.yml, walked by the ASL driver over the real step handlers and a
 * stateful fake of AWS (fake-aws.ts), seeded with the corpus's thing, certificate, policy and registry row.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { provenanceItem } from '@cv/runtime';
import { parse } from 'yaml';
import { type Definition, execute } from './asl-driver.js';
import { CERT, loadEvent, POLICY, THING } from './corpus.js';
import { World } from './fake-aws.js';
import { type context, GROUP, opensslCertificate, QUARANTINE_POLICY } from './harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const cfnTags = [
  { tag: '!GetAtt', resolve: (s: string) => ({ 'Fn::GetAtt': s.split('.') }) },
  { tag: '!Sub', resolve: (s: string) => ({ 'Fn::Sub': s }) },
  { tag: '!Ref', resolve: (s: string) => ({ Ref: s }) },
];
export const load = (file: string) => parse(readFileSync(`${ROOT}${file}`, 'utf8'), { customTags: cfnTags });

const stepFunctions = load('serverless/stepfunctions.yml') as {
  stateMachines: {
    remediation: { definition: Definition; events: Array<{ eventBridge: { event: unknown } }> };
  };
};
export const machine = stepFunctions.stateMachines.remediation;
const functions = load('serverless/functions/remediation-steps.yml') as Record<string, { handler: string }>;

/** The Lambda logical id serverless gives a function key: remediationNotify -> RemediationNotifyLambdaFunction. */
const logicalId = (key: string) => `${key[0]?.toUpperCase()}${key.slice(1)}LambdaFunction`;
export const exportOf = new Map(
  Object.entries(functions).map(([key, fn]) => [
    logicalId(key),
    fn.handler.slice(fn.handler.lastIndexOf('.') + 1),
  ]),
);

export type Handlers = Record<string, (event: unknown, ctx: ReturnType<typeof context>) => Promise<unknown>>;

/** Runs each Task's handler as Lambda would (JSON in, JSON out), recording the step names in `tasks`. */
export function invoker(h: Handlers, ctx: ReturnType<typeof context>, tasks: string[]) {
  return async (resource: unknown, input: unknown) => {
    const id = (resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const name = exportOf.get(id);
    const fn = name === undefined ? undefined : h[name];
    if (name === undefined || fn === undefined) throw new Error(`no handler for ${id}`);
    tasks.push(name);
    return JSON.parse(JSON.stringify(await fn(JSON.parse(JSON.stringify(input)), ctx)));
  };
}

export async function walk(h: Handlers, ctx: ReturnType<typeof context>, event: unknown) {
  const tasks: string[] = [];
  const execution = await execute(machine.definition, event, invoker(h, ctx, tasks));
  return { ...execution, tasks };
}

/** The provenance record authz-detector wrote when it raised the committed own-detector sample finding. */
export function ownSampleProvenance(
  targets: Record<string, string> = { certificateId: CERT },
): [string, Record<string, unknown>] {
  const finding =
    (loadEvent('own-authz-detector-finding').detail as { findings: Array<Record<string, string>> })
      .findings[0] ?? {};
  const record = {
    findingId: finding.Id ?? '',
    generatorId: finding.GeneratorId ?? '',
    productArn: finding.ProductArn ?? '',
    accountId: finding.AwsAccountId ?? '',
    targets,
    raisedAt: finding.CreatedAt ?? '',
  };
  return [record.findingId, provenanceItem(record, 2_000_000_000)];
}

const cert = opensslCertificate(THING);

/** A fresh fake AWS holding the corpus's thing (ACTIVE certificate), registry row, policy and provenance record. */
export function seededWorld(): World {
  const world = new World();
  world.certs.set(CERT, { status: 'ACTIVE', pem: cert.pem, serial: cert.serial, things: [THING] });
  world.groups.set(THING, new Set(['fleet-eu']));
  world.groupPolicies.set(GROUP, new Set([QUARANTINE_POLICY]));
  world.registry.set('TCU-00042', { thingName: THING });
  world.provenance.set(...ownSampleProvenance());
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
  world.policies.set(POLICY, {
    defaultId: '3',
    versions: ['1', '2', '3', '4', '5'].map((id, i) => ({ id, doc: broad, at: 1_700_000_000_000 + i })),
  });
  return world;
}
