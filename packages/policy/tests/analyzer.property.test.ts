// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IoT policy variables are literal ${...} strings
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyFinding } from '../src/index.js';
import { analyzeIotPolicy, MalformedPolicyError, severityOf } from '../src/index.js';

const ARN = 'arn:aws:iot:eu-west-1:123456789012';
const T = '${iot:Connection.Thing.ThingName}';

/** Either a list of findings, or the typed error: never anything else. */
function outcome(doc: unknown): PolicyFinding[] | MalformedPolicyError {
  try {
    return analyzeIotPolicy(doc);
  } catch (error) {
    if (error instanceof MalformedPolicyError) return error;
    throw error;
  }
}

const action = fc.oneof(
  fc.constantFrom(
    'iot:Connect',
    'iot:Publish',
    'iot:Subscribe',
    'iot:Receive',
    'iot:RetainPublish',
    'iot:GetThingShadow',
    'iot:UpdateThingShadow',
    'iot:UpdateJobExecution',
    'iot:AssumeRoleWithCertificate',
    'iot:ListRetainedMessages',
    'iot:DeleteThing',
    'iot:*',
    '*',
    'iot:Pub*',
    'iot:?onnect',
    'IOT:PUBLISH',
    'greengrass:Discover',
    's3:GetObject',
    'iot:',
    ':',
    '*:*',
  ),
  fc.string({ minLength: 1, maxLength: 20 }),
);

const resourceName = fc.oneof(
  fc.constantFrom(
    '*',
    '#',
    '+',
    T,
    '${iot:ClientId}',
    '${iot:Certificate.Subject.CommonName}',
    'ecus',
    'a?b',
    '$aws',
  ),
  fc.string({ minLength: 1, maxLength: 8 }),
);
const resource = fc.oneof(
  fc.constant('*'),
  fc
    .tuple(
      fc.constantFrom('client', 'topic', 'topicfilter', 'thing', 'rolealias', '*', 'topic*', 'x'),
      fc.array(resourceName, { minLength: 0, maxLength: 4 }),
    )
    .map(([type, parts]) => `${ARN}:${type}/${parts.join('/')}`),
  fc.constantFrom('arn:aws:iot:*:*:*', 'arn:aws:iot:*', 'arn:*', `${ARN}:*`),
  fc.string({ minLength: 1, maxLength: 30 }),
);

const oneOrMany = <V>(arb: fc.Arbitrary<V>) => fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 4 }));

const condition = fc.oneof(
  fc.constant(undefined),
  fc.constant({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } }),
  fc.constant({ Bool: { 'iot:Connection.Thing.IsAttached': false } }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue())),
);

const statement = fc
  .record({
    effect: fc.constantFrom('Allow', 'Deny'),
    not: fc.boolean(),
    notResource: fc.boolean(),
    actions: oneOrMany(action),
    resources: oneOrMany(resource),
    condition,
  })
  .map((s) => {
    const out: Record<string, unknown> = { Effect: s.effect };
    out[s.not ? 'NotAction' : 'Action'] = s.actions;
    out[s.notResource ? 'NotResource' : 'Resource'] = s.resources;
    if (s.condition !== undefined) out.Condition = s.condition;
    return out;
  });

const policy = fc
  .record({
    version: fc.constantFrom('2012-10-17', '2008-10-17', undefined),
    statements: fc.array(statement, { minLength: 1, maxLength: 6 }),
    single: fc.boolean(),
  })
  .map(({ version, statements, single }) => {
    const doc: Record<string, unknown> = {
      Statement: single && statements.length === 1 ? statements[0] : statements,
    };
    if (version !== undefined) doc.Version = version;
    return doc;
  });

describe('analyzeIotPolicy never crashes', () => {
  it('any JSON value: findings or MalformedPolicyError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = outcome(value);
        expect(Array.isArray(result) || result instanceof MalformedPolicyError).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('any JavaScript value (objects, arrays, prototypes, symbols): findings or MalformedPolicyError', () => {
    fc.assert(
      fc.property(
        fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: true }),
        (value) => {
          const result = outcome(value);
          expect(Array.isArray(result) || result instanceof MalformedPolicyError).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any string (policy text): findings or MalformedPolicyError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const result = outcome(text);
        expect(Array.isArray(result) || result instanceof MalformedPolicyError).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('near-valid documents with a random element broken: findings or MalformedPolicyError', () => {
    fc.assert(
      fc.property(policy, fc.string({ maxLength: 12 }), fc.jsonValue(), (doc, key, value) => {
        const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
        const first = statements[0] as Record<string, unknown>;
        const broken = { ...doc, Statement: [{ ...first, [key]: value }, ...statements.slice(1)] };
        const result = outcome(broken);
        expect(Array.isArray(result) || result instanceof MalformedPolicyError).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('analyzeIotPolicy on generated policies', () => {
  it('well-formed documents always analyze, with well-formed findings', () => {
    fc.assert(
      fc.property(policy, (doc) => {
        const findings = analyzeIotPolicy(doc);
        const count = Array.isArray(doc.Statement) ? doc.Statement.length : 1;
        for (const f of findings) {
          expect(f.statement).toBeGreaterThanOrEqual(0);
          expect(f.statement).toBeLessThan(count);
          expect(f.severity).toBe(severityOf(f.code));
          expect(typeof f.reason).toBe('string');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('Deny statements never produce findings', () => {
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 6 }), (statements) => {
        const denies = statements.map((s) => ({ ...s, Effect: 'Deny' }));
        expect(analyzeIotPolicy({ Version: '2012-10-17', Statement: denies })).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('appending a Deny statement never changes the findings', () => {
    fc.assert(
      fc.property(policy, statement, (doc, extra) => {
        const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
        const before = analyzeIotPolicy({ ...doc, Statement: statements });
        const after = analyzeIotPolicy({ ...doc, Statement: [...statements, { ...extra, Effect: 'Deny' }] });
        expect(after).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it('the JSON text and the object give the same findings', () => {
    fc.assert(
      fc.property(policy, (doc) => {
        expect(analyzeIotPolicy(JSON.stringify(doc))).toEqual(analyzeIotPolicy(doc));
      }),
      { numRuns: 300 },
    );
  });

  it('action names match case-insensitively', () => {
    fc.assert(
      fc.property(policy, fc.boolean(), (doc, upper) => {
        const recase = (v: unknown): unknown =>
          typeof v === 'string'
            ? upper
              ? v.toUpperCase()
              : v.toLowerCase()
            : Array.isArray(v)
              ? v.map(recase)
              : v;
        const statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Record<
          string,
          unknown
        >[];
        const recased = statements.map((s) => {
          const copy = { ...s };
          if ('Action' in copy) copy.Action = recase(copy.Action);
          if ('NotAction' in copy) copy.NotAction = recase(copy.NotAction);
          return copy;
        });
        const codes = (d: unknown) =>
          analyzeIotPolicy(d).map((f) => `${f.statement}:${f.code}:${f.resource ?? ''}`);
        expect(codes({ ...doc, Statement: recased })).toEqual(codes({ ...doc, Statement: statements }));
      }),
      { numRuns: 300 },
    );
  });
});
