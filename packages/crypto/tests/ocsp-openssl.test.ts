/**
 * OCSP against the independent peer: real `openssl ocsp` responders on loopback, issuer-signed
 * (ResponderID byName) and delegated (byKey, with nextUpdate), with good, revoked and unknown serials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOcsp, createHttpTransport, OcspResponseError } from '../src/ocsp/index.js';
import { parseCertificate } from '../src/x509/index.js';
import { createIntermediateCa, createLeaf, createRootCa, sharedKey } from './helpers/pki.js';
import { type OcspResponder, startOcspResponder } from './helpers/pki-openssl.js';

const DAY = 86_400_000;
const root = createRootCa({ key: sharedKey('P-256', 50) });
const ca = createIntermediateCa(root, {
  key: sharedKey('P-256', 51),
  subject: { CN: 'Operational CA', O: 'cv' },
});
const goodLeaf = createLeaf(ca, { key: sharedKey('P-256', 52), subject: 'VIN1_ecu-good' });
const revokedLeaf = createLeaf(ca, { key: sharedKey('P-256', 53), subject: 'VIN1_ecu-revoked' });
const unknownLeaf = createLeaf(ca, { key: sharedKey('P-256', 54), subject: 'VIN1_ecu-unknown' });
const delegate = createLeaf(ca, {
  key: sharedKey('P-256', 55),
  subject: 'OCSP Responder',
  extKeyUsage: ['ocspSigning'],
});
const unauthorized = createLeaf(ca, {
  key: sharedKey('P-256', 56),
  subject: 'Not a responder',
  extKeyUsage: ['clientAuth'],
});
const revokedAt = new Date(Math.floor((Date.now() - DAY) / 1000) * 1000);
const entries = [
  { cert: goodLeaf, notAfter: new Date(Date.now() + 365 * DAY) },
  { cert: revokedLeaf, notAfter: new Date(Date.now() + 365 * DAY), revokedAt, reason: 'keyCompromise' },
];

const responders: OcspResponder[] = [];
let issuerSigned: OcspResponder;
let delegated: OcspResponder;
let wrongSigner: OcspResponder;

beforeAll(async () => {
  issuerSigned = await startOcspResponder({ ca, signer: ca, entries });
  responders.push(issuerSigned);
  delegated = await startOcspResponder({ ca, signer: delegate, entries, byKey: true, nextUpdateMinutes: 60 });
  responders.push(delegated);
  wrongSigner = await startOcspResponder({ ca, signer: unauthorized, entries });
  responders.push(wrongSigner);
});

afterAll(async () => {
  await Promise.all(responders.map((r) => r.stop()));
  for (const r of responders) expect(r.process.exitCode !== null || r.process.signalCode !== null).toBe(true);
});

const transport = createHttpTransport();
const issuer = parseCertificate(ca.pem);

function check(
  leaf: typeof goodLeaf,
  responder: OcspResponder,
  options: { nonce?: boolean; hashAlgorithm?: 'sha1' | 'sha256' } = {},
) {
  return checkOcsp({
    cert: parseCertificate(leaf.pem),
    issuer,
    url: responder.url,
    allowedHosts: ['127.0.0.1'],
    transport,
    ...options,
  });
}

describe.each([
  ['issuer-signed (byName)', () => issuerSigned],
  ['delegated responder (byKey)', () => delegated],
])('openssl ocsp responder, %s', (_name, responder) => {
  it.each([
    ['sha256', true],
    ['sha1', false],
  ] as const)('good certificate → good (CertID %s, nonce %s)', async (hashAlgorithm, nonce) => {
    const result = await check(goodLeaf, responder(), { hashAlgorithm, nonce });
    expect(result.status).toBe('good');
  });

  it('revoked certificate → revoked with time and reason', async () => {
    const result = await check(revokedLeaf, responder(), { nonce: true });
    expect(result).toMatchObject({ status: 'revoked', revokedAt, reason: 'keyCompromise' });
  });

  it('certificate absent from the index → unknown', async () => {
    const result = await check(unknownLeaf, responder());
    expect(result.status).toBe('unknown');
  });
});

describe('openssl ocsp responder signing with an unauthorized certificate', () => {
  it('rejects the answer as wrong-signer, even for a revoked certificate', async () => {
    await expect(check(goodLeaf, wrongSigner)).rejects.toMatchObject({ reason: 'wrong-signer' });
    await expect(check(revokedLeaf, wrongSigner)).rejects.toBeInstanceOf(OcspResponseError);
  });
});

describe('openssl ocsp responder for another CA', () => {
  it('its answer about a same-serial certificate is not accepted for ours', async () => {
    // A different CA that happens to know the same serial: the CertID (issuer hashes) differs.
    const otherCa = createIntermediateCa(root, { key: sharedKey('P-256', 57), subject: 'Other CA' });
    const twin = createLeaf(otherCa, { key: sharedKey('P-256', 58), serial: goodLeaf.serial });
    const other = await startOcspResponder({
      ca: otherCa,
      signer: otherCa,
      entries: [{ cert: twin, notAfter: new Date(Date.now() + DAY) }],
    });
    responders.push(other);
    await expect(check(goodLeaf, other)).rejects.toMatchObject({ reason: 'wrong-signer' });
  });
});
