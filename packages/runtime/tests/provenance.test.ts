import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FindingProvenance, parseProvenanceItem, provenanceItem, sameTargets } from '../src/index.js';

const record: FindingProvenance = {
  findingId: 'cv-security/authz-detector/ab/2026-12-03T09:00:00.000Z',
  generatorId: 'cv-security/authz-detector',
  productArn: 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default',
  accountId: '123456789012',
  targets: { certificateId: 'ab' },
  raisedAt: '2026-12-03T09:00:01.000Z',
};

describe('finding provenance records', () => {
  it('read back what was written, whatever the targets (property)', () => {
    const target = fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({ thingName: target, certificateId: target, caCertificateId: target, policyName: target }),
        (raw) => {
          const targets = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
          const back = parseProvenanceItem(provenanceItem({ ...record, targets }, 1));
          return (
            back !== undefined && sameTargets(back.targets, targets) && back.findingId === record.findingId
          );
        },
      ),
    );
  });

  it('an incomplete or unexpected item is no record', () => {
    const item = provenanceItem(record, 1) as Record<string, unknown>;
    for (const key of ['findingId', 'generatorId', 'productArn', 'accountId', 'raisedAt', 'targets']) {
      const { [key]: _dropped, ...rest } = item;
      expect(parseProvenanceItem(rest), key).toBeUndefined();
    }
    expect(parseProvenanceItem({ ...item, targets: { M: { clientId: { S: 'x' } } } })).toBeUndefined();
    expect(parseProvenanceItem({ ...item, targets: { M: { certificateId: { N: '1' } } } })).toBeUndefined();
    expect(parseProvenanceItem(undefined)).toBeUndefined();
  });

  it('targets are the same only when every kind is the same, absent included', () => {
    expect(sameTargets({ certificateId: 'ab' }, { certificateId: 'ab' })).toBe(true);
    expect(sameTargets({ certificateId: 'ab' }, { certificateId: 'ab', thingName: 't' })).toBe(false);
    expect(sameTargets({ certificateId: 'ab' }, { certificateId: 'AB' })).toBe(false);
    expect(sameTargets({}, { policyVersionId: '1' })).toBe(false);
  });
});
