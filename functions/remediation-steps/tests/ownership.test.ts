/**
 * Issue 12 item 1: classify acts only on identifiers that are provably this stack's. Every place a finding can name
 * a resource is replaced with identifiers of another account, region, partition, service or resource type, case
 * variants, ARNs with paths, and ids that disagree with the rest of the finding: the plan must never name a target
 * (refused: notify only) or the finding must be rejected outright.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Classification, classify } from '../src/classify.js';
import { ForeignFindingError, MalformedFindingError } from '../src/errors.js';
import { CERT, loadEvent, POLICY, SCOPE, THING } from './corpus.js';

type Finding = Record<string, unknown> & {
  ProductFields: Record<string, string>;
  Resources: Array<Record<string, unknown> & { Details?: { Other?: Record<string, string> } }>;
};
const findingOf = (event: Record<string, unknown>) =>
  (event.detail as { findings: Finding[] }).findings[0] as Finding;

const CA = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const OTHER_CERT = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
const OWN = 'arn:aws:iot:eu-west-1:123456789012';

type Kind = 'cert' | 'thing' | 'policy' | 'cacert';
/** Where each sample names its resource, and what it names. */
const PLACES: Array<{ sample: string; kind: Kind; id: string; set: (f: Finding, v: string) => void }> = [
  ...(['audit-device-certificate-shared', 'own-authz-detector-finding'] as const).flatMap((sample) => [
    {
      sample,
      kind: 'cert' as Kind,
      id: CERT,
      set: (f: Finding, v: string) => {
        f.ProductFields.DeviceCertificateId = v;
      },
    },
    {
      sample,
      kind: 'cert' as Kind,
      id: CERT,
      set: (f: Finding, v: string) => {
        (f.Resources[0] ?? {}).Id = v;
      },
    },
    {
      sample,
      kind: 'cert' as Kind,
      id: CERT,
      set: (f: Finding, v: string) => {
        const other = (f.Resources[0]?.Details?.Other ?? {}) as Record<string, string>;
        other[sample.startsWith('own') ? 'CertificateId' : 'CertificateArn'] = v;
      },
    },
  ]),
  {
    sample: 'detect-authorization-failures',
    kind: 'thing',
    id: THING,
    set: (f, v) => {
      f.ProductFields.ThingName = v;
    },
  },
  {
    sample: 'detect-authorization-failures',
    kind: 'thing',
    id: THING,
    set: (f, v) => {
      (f.Resources[0] ?? {}).Id = v;
    },
  },
  {
    sample: 'detect-authorization-failures',
    kind: 'thing',
    id: THING,
    set: (f, v) => {
      (f.Resources[0]?.Details?.Other ?? {}).ThingArn = v;
    },
  },
  {
    sample: 'audit-conflicting-client-ids',
    kind: 'thing',
    id: THING,
    set: (f, v) => {
      (f.Resources[0] ?? {}).Id = v;
    },
  },
  {
    sample: 'audit-conflicting-client-ids',
    kind: 'thing',
    id: THING,
    set: (f, v) => {
      f.ProductFields.ClientId = v;
    },
  },
  {
    sample: 'audit-conflicting-client-ids',
    kind: 'thing',
    id: THING,
    set: (f, v) => {
      (f.Resources[0]?.Details?.Other ?? {}).ClientId = v;
    },
  },
  {
    sample: 'audit-iot-policy-overly-permissive',
    kind: 'policy',
    id: POLICY,
    set: (f, v) => {
      f.ProductFields.PolicyName = v;
    },
  },
  {
    sample: 'audit-iot-policy-overly-permissive',
    kind: 'policy',
    id: POLICY,
    set: (f, v) => {
      (f.Resources[0] ?? {}).Id = v;
    },
  },
  {
    sample: 'audit-ca-certificate-expiring',
    kind: 'cacert',
    id: CA,
    set: (f, v) => {
      f.ProductFields.CaCertificateId = v;
    },
  },
  {
    sample: 'audit-ca-certificate-expiring',
    kind: 'cacert',
    id: CA,
    set: (f, v) => {
      (f.Resources[0] ?? {}).Id = v;
    },
  },
];

const OTHER_TYPE: Record<Kind, string> = {
  cert: 'cacert',
  cacert: 'cert',
  thing: 'thinggroup',
  policy: 'rolealias',
};

/** Identifiers that name something that is not this stack's resource of `kind` (or another resource of ours). */
function foreign(kind: Kind, id: string): string[] {
  const other = kind === 'cert' || kind === 'cacert' ? OTHER_CERT : `${id}X`;
  return [
    `arn:aws:iot:eu-west-1:999999999999:${kind}/${id}`,
    `arn:aws:iot:us-east-1:123456789012:${kind}/${id}`,
    `arn:aws:iot:eu-west-2:999999999999:${kind}/${id}`,
    `arn:aws-cn:iot:eu-west-1:123456789012:${kind}/${id}`,
    `arn:aws-us-gov:iot:eu-west-1:123456789012:${kind}/${id}`,
    `arn:aws-iso:iot:eu-west-1:123456789012:${kind}/${id}`,
    `arn:aws:iot:eu-west-1:123456789012:${OTHER_TYPE[kind]}/${id}`,
    `arn:aws:iot:eu-west-1:123456789012:${kind}/${id}/child`,
    `arn:aws:iot:eu-west-1:123456789012:${kind}/../${kind}/${id}`,
    `arn:aws:iot:eu-west-1:123456789012:${kind}:${id}`,
    `arn:aws:iot:eu-west-1::${kind}/${id}`,
    `arn:aws:iot::123456789012:${kind}/${id}`,
    `arn:aws:s3:::${kind}/${id}`,
    `arn:aws:iam::123456789012:${kind}/${id}`,
    `arn:aws:greengrass:eu-west-1:123456789012:${kind}/${id}`,
    `ARN:aws:iot:eu-west-1:123456789012:${kind}/${id}`,
    `arn:AWS:iot:eu-west-1:123456789012:${kind}/${id}`,
    `arn:aws:IOT:eu-west-1:123456789012:${kind}/${id}`,
    `arn:aws:iot:EU-WEST-1:123456789012:${kind}/${id}`,
    `arn:aws:iot:eu-west-1:123456789012:${kind.toUpperCase()}/${id}`,
    ` arn:aws:iot:eu-west-1:999999999999:${kind}/${id}`,
    `${OWN}:${kind}/${other}`,
    other,
    id.toUpperCase(),
  ].filter((v) => v !== id);
}

/** Nothing can be acted on: rejected outright, or refused with a plan that names no target and only notifies. */
function actsOnNothing(run: () => Classification): boolean {
  let result: Classification;
  try {
    result = run();
  } catch (error) {
    return error instanceof MalformedFindingError;
  }
  const { plan } = result;
  return (
    !result.skipped &&
    plan.refusal?.code === 'foreign-resource' &&
    JSON.stringify(plan.actions) === '["notify"]' &&
    [plan.thingName, plan.certificateId, plan.caCertificateId, plan.policyName, plan.policyVersionId].every(
      (t) => t === undefined,
    )
  );
}

describe('identifiers must be this stack’s (issue 12 item 1)', () => {
  it.each(PLACES.map((p, i) => [`${p.sample} #${i}`, p] as const))(
    '%s: an ARN of this stack in that place is still acted on (control)',
    (_name, place) => {
      const event = loadEvent(place.sample);
      place.set(findingOf(event), `${OWN}:${place.kind}/${place.id}`);

      const result = classify(event, SCOPE);

      expect(result.plan.refusal).toBeUndefined();
      expect(result.plan.actions.length).toBeGreaterThan(0);
    },
  );

  it('any foreign identifier in any place leaves nothing to act on (property)', () => {
    const cases = PLACES.flatMap((place) => foreign(place.kind, place.id).map((value) => ({ place, value })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), ({ place, value }) => {
        const event = loadEvent(place.sample);
        place.set(findingOf(event), value);
        return actsOnNothing(() => classify(event, SCOPE));
      }),
      { numRuns: cases.length * 2 },
    );
    // Every case at least once, not only the sampled ones.
    for (const { place, value } of cases) {
      const event = loadEvent(place.sample);
      place.set(findingOf(event), value);
      expect(
        actsOnNothing(() => classify(event, SCOPE)),
        `${place.sample} <- ${value}`,
      ).toBe(true);
    }
  });

  it('a certificate ARN of another account and region with our certificate’s id names nothing of ours', () => {
    const event = loadEvent('audit-device-certificate-shared');
    const finding = findingOf(event);
    finding.Resources = [
      { Type: 'AwsIotCertificate', Id: `arn:aws:iot:us-east-1:999999999999:cert/${CERT}` },
    ];
    delete finding.ProductFields.DeviceCertificateId;

    const { plan } = classify(event, SCOPE);

    expect(plan).toMatchObject({ actions: ['notify'], refusal: { code: 'foreign-resource' } });
    expect(plan.certificateId).toBeUndefined();
    expect(plan.refusal?.reason).toMatch(/region us-east-1/);
  });

  it.each([
    [
      'Resources[].Partition',
      (f: Finding) => {
        (f.Resources[0] ?? {}).Partition = 'aws-cn';
      },
    ],
    [
      'Resources[].Region',
      (f: Finding) => {
        (f.Resources[0] ?? {}).Region = 'us-east-1';
      },
    ],
    [
      'an extra resource of another account',
      (f: Finding) =>
        void f.Resources.push({
          Type: 'AwsIotCertificate',
          Id: `arn:aws:iot:eu-west-1:999999999999:cert/${OTHER_CERT}`,
        }),
    ],
    [
      'a second certificate resource of ours that disagrees',
      (f: Finding) => void f.Resources.push({ Type: 'AwsIotCertificate', Id: OTHER_CERT }),
    ],
    [
      'a thing resource whose thing ARN is another account’s',
      (f: Finding) =>
        void f.Resources.push({
          Type: 'AwsIotThing',
          Id: THING,
          Details: { Other: { ThingArn: `arn:aws:iot:eu-west-1:999999999999:thing/${THING}` } },
        }),
    ],
    [
      'an unrelated Details.Other ARN of another account',
      (f: Finding) => {
        (f.Resources[0]?.Details?.Other ?? {}).RoleArn = 'arn:aws:iam::999999999999:role/x';
      },
    ],
    [
      'a Detect-style GeneratorId of another account',
      (f: Finding) => {
        f.GeneratorId = 'arn:aws:iot:eu-west-1:999999999999:securityprofile/p';
      },
    ],
    [
      'Security Hub’s own finding ARN naming another product',
      (f: Finding) => {
        f.ProductFields['aws/securityhub/FindingId'] =
          `arn:aws:securityhub:us-east-1::product/aws/iot-device-defender-audit/${String(f.Id)}`;
      },
    ],
    [
      'an audit finding Id of another account',
      (f: Finding) => {
        f.Id = String(f.Id).replace('123456789012/', '999999999999/');
      },
    ],
    [
      'an audit finding Id naming another certificate',
      (f: Finding) => {
        f.Id = String(f.Id).replace(CERT, OTHER_CERT);
      },
    ],
  ])('%s: refused, no target', (_name, mutate) => {
    const event = loadEvent('audit-device-certificate-shared');
    const finding = findingOf(event);
    mutate(finding);
    delete finding.ProductFields['aws/securityhub/FindingId'];
    if (_name.startsWith('Security Hub')) mutate(finding);

    expect(actsOnNothing(() => classify(event, SCOPE))).toBe(true);
    expect(() => classify(event, SCOPE)).not.toThrow();
  });

  it.each([
    [
      'AwsAccountId',
      (f: Finding) => {
        f.AwsAccountId = '999999999999';
      },
    ],
    [
      'Region',
      (f: Finding) => {
        f.Region = 'us-east-1';
      },
    ],
    [
      'ProductArn region',
      (f: Finding) => {
        f.ProductArn = String(f.ProductArn).replace('eu-west-1', 'us-east-1');
      },
    ],
    [
      'ProductArn partition',
      (f: Finding) => {
        f.ProductArn = String(f.ProductArn).replace('arn:aws:', 'arn:aws-cn:');
      },
    ],
  ])('a finding whose own %s is not ours is not ours to touch (ForeignFindingError)', (_name, mutate) => {
    const event = loadEvent('audit-device-certificate-shared');
    mutate(findingOf(event));

    expect(() => classify(event, SCOPE)).toThrow(ForeignFindingError);
  });

  it('in another partition, the same finding shape is ours only with that partition’s ARNs', () => {
    const scope = { partition: 'aws-cn', region: 'cn-north-1', accountId: '123456789012' };
    const event = loadEvent('own-authz-detector-finding');
    const finding = findingOf(event);
    finding.ProductArn = 'arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default';
    finding.Resources = [
      {
        Type: 'AwsIotCertificate',
        Id: `arn:aws-cn:iot:cn-north-1:123456789012:cert/${CERT}`,
        Partition: 'aws-cn',
      },
    ];

    expect(classify(event, scope).plan).toMatchObject({
      certificateId: CERT,
      actions: expect.arrayContaining(['quarantine']),
    });
    expect(() => classify(event, SCOPE)).toThrow(ForeignFindingError);
  });
});
