import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify } from '../src/classify.js';
import { MalformedFindingError } from '../src/errors.js';
import { CERT, eventNames, loadEvent, POLICY, SCOPE, THING } from './corpus.js';

const COMPROMISE = [
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
  'notify',
  'openTicket',
];

/** Every playbook row of docs/architecture.md §8, from the committed corpus. */
const ROWS: Array<[string, string[], Record<string, string>]> = [
  [
    'audit-iot-policy-overly-permissive',
    ['fixPolicy', 'notify', 'openTicket'],
    { policyName: POLICY, policyVersionId: '3' },
  ],
  ['audit-device-certificate-shared', COMPROMISE, { certificateId: CERT }],
  ['audit-conflicting-client-ids', COMPROMISE, { thingName: THING }],
  [
    'audit-revoked-device-certificate-still-active',
    ['deactivateCertificate', 'notify'],
    { certificateId: CERT },
  ],
  ['audit-device-certificate-expiring', ['rotateCertificate', 'notify'], { certificateId: CERT }],
  ['audit-device-certificate-key-quality', ['rotateCertificate', 'notify'], { certificateId: CERT }],
  ['audit-ca-certificate-expiring', ['notify', 'openTicket'], {}],
  ['audit-revoked-ca-certificate-still-active', ['notify', 'openTicket'], {}],
  [
    'detect-authorization-failures',
    ['quarantine', 'deactivateCertificate', 'notify', 'openTicket'],
    { thingName: THING },
  ],
  ['audit-unknown-check', ['openTicket'], {}],
  [
    'own-authz-detector-finding',
    ['quarantine', 'deactivateCertificate', 'notify', 'openTicket'],
    { certificateId: CERT },
  ],
  [
    'own-behaviour-cloned-identity',
    ['quarantine', 'deactivateCertificate', 'revokeCertificate', 'rotateCertificate', 'notify', 'openTicket'],
    { thingName: THING, certificateId: CERT, check: 'cv-security/behaviour-detector/CLONED_IDENTITY' },
  ],
  [
    'own-behaviour-reconnect-loop',
    ['notify'],
    { thingName: THING, check: 'cv-security/behaviour-detector/RECONNECT_LOOP' },
  ],
];

describe('classify', () => {
  it.each(ROWS)('%s gives its playbook row', (name, actions, targets) => {
    const event = loadEvent(name);

    const result = classify(event, SCOPE);

    expect(result.skipped).toBe(false);
    expect(result.plan.actions).toEqual(actions);
    expect(result.plan).toMatchObject(targets);
    const finding = (event.detail as { findings: Array<{ Id: string; ProductArn: string }> }).findings[0];
    expect(result.plan.findingId).toBe(finding?.Id);
    expect(result.plan.productArn).toBe(finding?.ProductArn);
  });

  it('a behaviour finding is played by the behaviour its Id names (bound by provenance), never by its editable fields', () => {
    const event = loadEvent('own-behaviour-reconnect-loop');
    const finding = (event.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
    finding.ProductFields = { ...(finding.ProductFields as object), 'cv/Check': 'CLONED_IDENTITY' };
    finding.Title = 'CLONED_IDENTITY on ECU';
    expect(classify(event, SCOPE).plan.actions).toEqual(['notify']);
    // An Id naming no known behaviour gets a ticket only, whatever else it says.
    finding.Id = String(finding.Id).replace('RECONNECT_LOOP', 'QUARANTINE_EVERYTHING');
    expect(classify(event, SCOPE).plan.actions).toEqual(['openTicket']);
    finding.Id = `cv-security/behaviour-detector/${THING}/2026-11-25T08:31:07.000Z`;
    expect(classify(event, SCOPE).plan.actions).toEqual(['openTicket']);
  });

  it('never takes the client id an authz-detector finding reports as the target thing', () => {
    const plan = classify(loadEvent('own-authz-detector-finding'), SCOPE).plan;

    expect(plan.thingName).toBeUndefined();
    expect(plan.check).toBe('cv-security/authz-detector');
  });

  it('names the audit check and the Detect metric', () => {
    expect(classify(loadEvent('audit-device-certificate-shared'), SCOPE).plan.check).toBe(
      'DEVICE_CERTIFICATE_SHARED_CHECK',
    );
    expect(classify(loadEvent('detect-authorization-failures'), SCOPE).plan.check).toBe(
      'DETECT_BEHAVIOR_VIOLATION:aws:num-authorization-failures',
    );
  });

  it.each([
    ['audit-suppressed', 'suppressed'],
    ['detect-archived', 'archived'],
    ['audit-check-summary', 'audit check summary (no resource)'],
  ])('%s is skipped with an empty plan', (name, reason) => {
    const result = classify(loadEvent(name), SCOPE);

    expect(result).toMatchObject({ skipped: true, skipReason: reason });
    expect(result.plan.actions).toEqual([]);
  });

  it.each(['malformed-certificate-id', 'malformed-no-resources'])('%s is a MalformedFindingError', (name) => {
    expect(() => classify(loadEvent(name), SCOPE)).toThrow(MalformedFindingError);
  });

  it('rejects a finding from another product', () => {
    const event = loadEvent('audit-device-certificate-shared');
    const finding = (event.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
    finding.ProductArn = 'arn:aws:securityhub:eu-west-1::product/aws/guardduty';

    expect(() => classify(event, SCOPE)).toThrow(/unsupported product aws\/guardduty/);
  });

  it('rejects an own-account finding whose GeneratorId we do not own', () => {
    const event = loadEvent('detect-authorization-failures');
    const finding = (event.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
    finding.ProductArn = 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default';
    finding.GeneratorId = 'someone-else/detector';

    expect(() => classify(event, SCOPE)).toThrow(MalformedFindingError);
  });

  it('rejects a device finding that names no device', () => {
    const event = loadEvent('detect-authorization-failures');
    const finding = (event.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
    delete (finding.ProductFields as Record<string, string>).ThingName;
    finding.Resources = [{ Type: 'Other', Id: 'somewhere', Region: 'eu-west-1' }];

    expect(() => classify(event, SCOPE)).toThrow(/names neither a thing nor a device certificate/);
  });

  it('rejects an event carrying more than one finding', () => {
    const event = loadEvent('audit-device-certificate-shared');
    const detail = event.detail as { findings: unknown[] };
    detail.findings = [detail.findings[0], detail.findings[0]];

    expect(() => classify(event, SCOPE)).toThrow(MalformedFindingError);
  });

  it('every committed sample event either classifies or is a MalformedFindingError', () => {
    for (const name of eventNames()) {
      try {
        classify(loadEvent(name), SCOPE);
      } catch (error) {
        expect(error, name).toBeInstanceOf(MalformedFindingError);
        expect(name).toMatch(/^malformed-/);
      }
    }
  });

  it('throws only MalformedFindingError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          classify(input, SCOPE);
        } catch (error) {
          return error instanceof MalformedFindingError;
        }
        return false;
      }),
      { numRuns: 300 },
    );
  });

  it('throws only MalformedFindingError when any field of a real finding is replaced (property)', () => {
    const names = eventNames().filter((n) => !n.startsWith('malformed-'));
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.constantFrom(
          'Id',
          'ProductArn',
          'GeneratorId',
          'AwsAccountId',
          'Resources',
          'ProductFields',
          'Title',
          'Workflow',
          'RecordState',
          'Severity',
        ),
        fc.anything(),
        (name, field, value) => {
          const event = loadEvent(name);
          const finding = (event.detail as { findings: Array<Record<string, unknown>> }).findings[0] ?? {};
          finding[field] = value;
          try {
            const result = classify(event, SCOPE);
            return result.plan.actions.length <= 7;
          } catch (error) {
            return error instanceof MalformedFindingError;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
