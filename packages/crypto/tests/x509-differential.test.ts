/**
 * Differential test against the independent peer: random combinations of chain defects that both
 * we and `openssl verify` judge, compared verdict for verdict. Defects where we are stricter by design
 * (missing keyUsage, CA leaf, clock skew) are left out here and tested one by one in x509-chain.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ChainValidationError,
  createTrustStore,
  parseCertificate,
  validateChain,
} from '../src/x509/index.js';
import { createIntermediateCa, createLeaf, createRootCa, der, sharedKey } from './helpers/pki.js';
import { opensslVerify } from './helpers/pki-openssl.js';

const DAY = 86_400_000;
const NOW = new Date();

const DEFECTS = [
  'leafExpired',
  'intermediateNotYetValid',
  'rootExpired',
  'intermediateNotCa',
  'intermediateNoKeyCertSign',
  'rootPathLenZero',
  'leafForged',
  'intermediateForged',
  'leafUnknownCritical',
  'omitIntermediate',
  'otherAnchor',
] as const;
type Defects = Record<(typeof DEFECTS)[number], boolean>;
const defects: fc.Arbitrary<Defects> = fc.record(
  Object.fromEntries(DEFECTS.map((k) => [k, fc.boolean()])) as Record<
    (typeof DEFECTS)[number],
    fc.Arbitrary<boolean>
  >,
);
const NONE = Object.fromEntries(DEFECTS.map((k) => [k, false])) as Defects;
const ONE_EACH = DEFECTS.map((k): [Defects] => [{ ...NONE, [k]: true }]);

describe('chain verdicts agree with openssl verify', () => {
  it('over random combinations of defects', () => {
    const rootKey = sharedKey('P-256', 70);
    const intKey = sharedKey('P-256', 71);
    const leafKey = sharedKey('P-256', 72);
    const evil = sharedKey('P-256', 73);
    const past = { notBefore: new Date(NOW.getTime() - 10 * DAY), notAfter: new Date(NOW.getTime() - DAY) };
    const future = { notBefore: new Date(NOW.getTime() + DAY), notAfter: new Date(NOW.getTime() + 10 * DAY) };
    let rejected = 0;
    fc.assert(
      fc.property(defects, (d) => {
        // Prepare
        const root = createRootCa({
          key: rootKey,
          ...(d.rootExpired ? past : {}),
          ...(d.rootPathLenZero ? { pathLen: 0 } : {}),
        });
        const intermediate = createIntermediateCa(root, {
          key: intKey,
          ...(d.intermediateNotYetValid ? future : {}),
          ...(d.intermediateNotCa ? { basicConstraints: { ca: false } } : {}),
          ...(d.intermediateNoKeyCertSign ? { keyUsage: ['digitalSignature', 'cRLSign'] as const } : {}),
          ...(d.intermediateForged ? { signWith: evil.privateKey } : {}),
        });
        const leaf = createLeaf(intermediate, {
          key: leafKey,
          ...(d.leafExpired ? past : {}),
          ...(d.leafForged ? { signWith: evil.privateKey } : {}),
          ...(d.leafUnknownCritical
            ? { extraExtensions: [{ oid: '1.3.6.1.4.1.55555.7', critical: true, value: der.null() }] }
            : {}),
        });
        const anchors = d.otherAnchor ? [createRootCa({ key: evil, subject: 'Other Root' })] : [root];
        const intermediates = d.omitIntermediate ? [] : [intermediate];
        // Act
        let ours = true;
        try {
          validateChain({
            leaf: parseCertificate(leaf.der),
            intermediates: intermediates.map((c) => parseCertificate(c.der)),
            trust: createTrustStore(anchors.map((a) => a.pem)),
            now: NOW,
            clockSkewSeconds: 0,
          });
        } catch (error) {
          if (!(error instanceof ChainValidationError)) throw error;
          ours = false;
        }
        const theirs = opensslVerify({ anchors, intermediates, leaf, at: NOW }).ok;
        if (!ours) rejected++;
        // Assess
        expect({ defects: d, ours }).toEqual({ defects: d, ours: theirs });
      }),
      { numRuns: 40, seed: 20261125, examples: [[NONE], ...ONE_EACH] },
    );
    expect(rejected).toBeGreaterThan(20);
  });
});
