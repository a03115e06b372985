/** The ECU's attestation proof, checked by @cv/crypto's verifier (the broker's) and by node:crypto. */
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attestationProof } from '../src/index.js';

const CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIHiMIGJAgEAMCcxJTAjBgNVBAMMHHJlcXVlc3RlZC1ieS10aGUtZWN1LWZpcm13
YXJlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1mV4wFQvmd2s4S7IfTtqy0qO
Nvpf1PYtLhNdQ8ESxzGfAT5byxQm0mwQ1UXn0PmTTb9P3CZJO2eYb9TQrCE1WaAA
MAoGCCqGSM49BAMCA0gAMEUCIQDl1fKoNpbC7kqVjGzV0gQbdGC3f1L8qKZx0Ywe
V3OwxAIgVY3sC3xBsmy6RU5sTqtSvqQyY1r1zHjM2XwQ6pS4T8s=
-----END CERTIFICATE REQUEST-----`;

describe('attestationProof', () => {
  it('signs cv-cert-broker/v1, signedAt and the CSR digest with DER ECDSA that verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const at = new Date('2026-11-25T10:00:00.123Z');
    const proof = attestationProof(CSR, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), at);
    expect(proof.signedAt).toBe('2026-11-25T10:00:00Z');
    const der = Buffer.from(CSR.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    const message = `cv-cert-broker/v1\n${proof.signedAt}\n${createHash('sha256').update(der).digest('base64url')}`;
    const key = createPublicKey(publicKey.export({ format: 'pem', type: 'spki' }));
    expect(
      verify(
        'sha256',
        Buffer.from(message),
        { key, dsaEncoding: 'der' },
        Buffer.from(proof.signature, 'base64'),
      ),
    ).toBe(true);
    // Bound to this CSR: the same signature does not verify for another digest.
    const other = `cv-cert-broker/v1\n${proof.signedAt}\n${createHash('sha256').update('x').digest('base64url')}`;
    expect(
      verify(
        'sha256',
        Buffer.from(other),
        { key, dsaEncoding: 'der' },
        Buffer.from(proof.signature, 'base64'),
      ),
    ).toBe(false);
  });
});
