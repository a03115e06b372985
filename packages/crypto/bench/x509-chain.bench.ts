/**
 * Chain validation of a 3-certificate P-256 chain (leaf, intermediate, root anchor) beside the raw
 * cost of the two ECDSA verifications it needs, measured in the same run.
 */
import { verify } from 'node:crypto';
import { bench, describe } from 'vitest';
import { internal } from '../src/x509/certificate.js';
import { createTrustStore, parseCertificate, validateChain } from '../src/x509/index.js';
import { createChain } from '../tests/helpers/pki.js';

const { root, intermediate, leaf } = createChain();
const trust = createTrustStore(root.pem);
const leafCert = parseCertificate(leaf.der);
const intCert = parseCertificate(intermediate.der);
const now = new Date();

// The raw work: leaf signature under the intermediate key, intermediate signature under the root key.
const l = internal(leafCert);
const i = internal(intCert);
const intKey = intCert.publicKey;
const rootKey = parseCertificate(root.der).publicKey;

describe('3-certificate P-256 chain', () => {
  bench('validateChain (parsed certificates, cached anchors)', () => {
    validateChain({ leaf: leafCert, intermediates: [intCert], trust, now });
  });

  bench('parse leaf + intermediate PEM, then validateChain', () => {
    validateChain({
      leaf: parseCertificate(leaf.pem),
      intermediates: [parseCertificate(intermediate.pem)],
      trust,
      now,
    });
  });

  bench('raw: 2 x crypto.verify ECDSA P-256/SHA-256', () => {
    if (!verify('sha256', l.tbs, { key: intKey, dsaEncoding: 'der' }, l.signature)) throw new Error('leaf');
    if (!verify('sha256', i.tbs, { key: rootKey, dsaEncoding: 'der' }, i.signature))
      throw new Error('intermediate');
  });
});
