/** OCSP response parsing and verification beside one raw ECDSA verification, in the same run. */
import { verify } from 'node:crypto';
import { bench, describe } from 'vitest';
import { parseOcspResponse, verifyOcspResponse } from '../src/ocsp/index.js';
import { parseCertificate } from '../src/x509/index.js';
import { createIntermediateCa, createLeaf, createRootCa } from '../tests/helpers/pki.js';
import { buildOcspResponse } from '../tests/helpers/pki-ocsp.js';

const root = createRootCa();
const issuer = createIntermediateCa(root);
const leaf = createLeaf(issuer);
const delegate = createLeaf(issuer, { subject: 'OCSP Responder', extKeyUsage: ['ocspSigning'] });
const single = {
  cert: leaf,
  issuer,
  status: 'good' as const,
  thisUpdate: new Date(Date.now() - 60_000),
  nextUpdate: new Date(Date.now() + 3_600_000),
};
const issuerSigned = buildOcspResponse({ responses: [single], signerKey: issuer.key.privateKey });
const delegated = buildOcspResponse({
  responses: [single],
  signerKey: delegate.key.privateKey,
  responder: delegate,
  certs: [delegate],
});
const cert = parseCertificate(leaf.der);
const issuerCert = parseCertificate(issuer.der);
const now = new Date();
const parsed = parseOcspResponse(issuerSigned);
const issuerKey = issuerCert.publicKey;

describe('OCSP response verification', () => {
  bench('parse + verify (issuer-signed)', () => {
    if (
      verifyOcspResponse(parseOcspResponse(issuerSigned), { cert, issuer: issuerCert, now }).status !== 'good'
    )
      throw new Error('x');
  });

  bench('parse + verify (delegated responder: 2 signatures)', () => {
    if (verifyOcspResponse(parseOcspResponse(delegated), { cert, issuer: issuerCert, now }).status !== 'good')
      throw new Error('x');
  });

  bench('raw: 1 x crypto.verify ECDSA P-256/SHA-256', () => {
    if (!verify('sha256', parsed.tbsResponseData, { key: issuerKey, dsaEncoding: 'der' }, parsed.signature))
      throw new Error('x');
  });
});
