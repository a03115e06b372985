import { spawnSync } from 'node:child_process';
import { constants, createHash, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ATTESTATION_CONTEXT,
  AttestationError,
  type AttestationFailureReason,
  attestationMessage,
  createAttestationProof,
  verifyAttestationProof,
} from '../src/attestation/index.js';
import { CryptoError } from '../src/errors.js';
import { createCsr, type KeySpec, sharedKey, toPem } from './helpers/pki.js';
import { tempDir } from './helpers/pki-openssl.js';

const NOW = new Date('2026-11-25T09:30:00Z');
const csr = createCsr({ key: sharedKey('P-256', 30), subject: 'ecu-1' });

function reasonOf(run: () => void): AttestationFailureReason | 'ok' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (error instanceof AttestationError) return error.reason;
    throw error;
  }
}

describe('attestation message', () => {
  it('is the exact docs/architecture.md §4 byte string', () => {
    const digest = createHash('sha256').update(csr.der).digest('base64url');
    expect(attestationMessage('2026-11-25T09:30:00Z', csr.der).toString('utf8')).toBe(
      `cv-cert-broker/v1\n2026-11-25T09:30:00Z\n${digest}`,
    );
    expect(ATTESTATION_CONTEXT).toBe('cv-cert-broker/v1');
    expect(digest).not.toMatch(/[+/=]/);
  });
});

describe('create and verify', () => {
  it.each<KeySpec>(['P-256', 'P-384', 'rsa2048'])('round-trips with a %s attestation key', (spec) => {
    // Prepare
    const key = sharedKey(spec, 31);
    // Act
    const proof = createAttestationProof({ privateKey: key.privateKey, csrDer: csr.der, now: NOW });
    // Assess
    expect(proof.signedAt).toBe('2026-11-25T09:30:00Z');
    expect(proof.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(
      reasonOf(() => verifyAttestationProof({ publicKey: key.publicKey, csrDer: csr.der, proof, now: NOW })),
    ).toBe('ok');
  });

  it.each<KeySpec>(['P-256', 'rsa2048'])(
    'openssl dgst verifies our %s proof (ECDSA-SHA256 DER / PSS-SHA256 salt 32)',
    (spec) => {
      // Prepare
      const key = sharedKey(spec, 31);
      const proof = createAttestationProof({ privateKey: key.privateKey, csrDer: csr.der, now: NOW });
      const dir = tempDir();
      try {
        writeFileSync(join(dir.path, 'pub.pem'), toPem('PUBLIC KEY', key.spki));
        writeFileSync(join(dir.path, 'msg'), attestationMessage(proof.signedAt, csr.der));
        writeFileSync(join(dir.path, 'sig'), Buffer.from(proof.signature, 'base64'));
        const pss = spec.startsWith('rsa')
          ? [
              '-sigopt',
              'rsa_padding_mode:pss',
              '-sigopt',
              'rsa_pss_saltlen:32',
              '-sigopt',
              'rsa_mgf1_md:sha256',
            ]
          : [];
        // Act
        const result = spawnSync(
          'openssl',
          [
            'dgst',
            '-sha256',
            '-verify',
            join(dir.path, 'pub.pem'),
            ...pss,
            '-signature',
            join(dir.path, 'sig'),
            join(dir.path, 'msg'),
          ],
          { encoding: 'utf8' },
        );
        // Assess
        expect(result.stdout.trim()).toBe('Verified OK');
      } finally {
        dir.remove();
      }
    },
  );

  it('verifies a proof made by an independent signer (node:crypto directly, fractional seconds)', () => {
    const key = sharedKey('P-256', 31);
    const signedAt = '2026-11-25T09:29:59.123Z';
    const message = Buffer.from(
      `cv-cert-broker/v1\n${signedAt}\n${createHash('sha256').update(csr.der).digest('base64url')}`,
    );
    const signature = sign('sha256', message, key.privateKey).toString('base64');
    expect(
      reasonOf(() =>
        verifyAttestationProof({
          publicKey: key.publicKey,
          csrDer: csr.der,
          proof: { signedAt, signature },
          now: NOW,
        }),
      ),
    ).toBe('ok');
  });
});

describe('rejections', () => {
  const ec = sharedKey('P-256', 31);
  const rsa = sharedKey('rsa2048', 31);
  const verifyWith = (
    proof: { signedAt: string; signature: string },
    options: { now?: Date; publicKey?: typeof ec.publicKey; csrDer?: Buffer } = {},
  ) =>
    reasonOf(() =>
      verifyAttestationProof({
        publicKey: options.publicKey ?? ec.publicKey,
        csrDer: options.csrDer ?? csr.der,
        proof,
        now: options.now ?? NOW,
      }),
    );

  it('freshness: 5 minutes either way inclusive, then stale / future', () => {
    const at = (offsetS: number) =>
      createAttestationProof({
        privateKey: ec.privateKey,
        csrDer: csr.der,
        now: new Date(NOW.getTime() + offsetS * 1000),
      });
    expect(verifyWith(at(-300))).toBe('ok');
    expect(verifyWith(at(300))).toBe('ok');
    expect(verifyWith(at(-301))).toBe('stale');
    expect(verifyWith(at(301))).toBe('future');
  });

  it.each([
    '2026-11-25 09:30:00Z',
    '2026-11-25T09:30:00+00:00',
    '2026-11-25T09:30:00z',
    '2026-11-25T09:30:00',
    '2026-02-30T09:30:00Z',
    '2026-11-25T24:00:00Z',
    '2026-11-25T09:30:60Z',
    '1764063000',
    '',
    ' 2026-11-25T09:30:00Z',
  ])('malformed signedAt %j → malformed-timestamp', (signedAt) => {
    const proof = createAttestationProof({ privateKey: ec.privateKey, csrDer: csr.der, signedAt });
    expect(verifyWith(proof)).toBe('malformed-timestamp');
  });

  it('another CSR, another key, or a changed signedAt → bad-signature', () => {
    const proof = createAttestationProof({ privateKey: ec.privateKey, csrDer: csr.der, now: NOW });
    const otherCsr = createCsr({ key: sharedKey('P-256', 32), subject: 'ecu-1' });
    expect(verifyWith(proof, { csrDer: otherCsr.der })).toBe('bad-signature');
    expect(verifyWith(proof, { publicKey: sharedKey('P-256', 33).publicKey })).toBe('bad-signature');
    expect(verifyWith({ ...proof, signedAt: '2026-11-25T09:30:01Z' })).toBe('bad-signature');
  });

  it('ECDSA in raw r||s form is not the contract (DER only) → bad-signature', () => {
    const message = attestationMessage('2026-11-25T09:30:00Z', csr.der);
    const p1363 = sign('sha256', message, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString(
      'base64',
    );
    expect(verifyWith({ signedAt: '2026-11-25T09:30:00Z', signature: p1363 })).toBe('bad-signature');
  });

  it('RSA: PKCS#1 v1.5 and PSS with a 20-byte salt are rejected; PSS salt 32 is the contract', () => {
    const signedAt = '2026-11-25T09:30:00Z';
    const message = attestationMessage(signedAt, csr.der);
    const pkcs1 = sign('sha256', message, rsa.privateKey).toString('base64');
    const salt20 = sign('sha256', message, {
      key: rsa.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 20,
    }).toString('base64');
    const salt32 = sign('sha256', message, {
      key: rsa.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    }).toString('base64');
    expect(verifyWith({ signedAt, signature: pkcs1 }, { publicKey: rsa.publicKey })).toBe('bad-signature');
    expect(verifyWith({ signedAt, signature: salt20 }, { publicKey: rsa.publicKey })).toBe('bad-signature');
    expect(verifyWith({ signedAt, signature: salt32 }, { publicKey: rsa.publicKey })).toBe('ok');
  });

  it.each(['', 'not base64!', 'AAA', 'A'.repeat(4000), 'AAAA====', 'AA==AA=='])(
    'signature %j → malformed-signature',
    (signature) => {
      expect(verifyWith({ signedAt: '2026-11-25T09:30:00Z', signature })).toBe('malformed-signature');
    },
  );

  it('a garbage but well-formed base64 signature → bad-signature', () => {
    expect(
      verifyWith({ signedAt: '2026-11-25T09:30:00Z', signature: Buffer.alloc(72, 7).toString('base64') }),
    ).toBe('bad-signature');
  });

  it('Ed25519 keys are not in the contract → unsupported-key (create and verify)', () => {
    const ed = sharedKey('ed25519');
    expect(reasonOf(() => createAttestationProof({ privateKey: ed.privateKey, csrDer: csr.der }))).toBe(
      'unsupported-key',
    );
    expect(
      verifyWith({ signedAt: '2026-11-25T09:30:00Z', signature: 'AAAA' }, { publicKey: ed.publicKey }),
    ).toBe('unsupported-key');
  });

  it('AttestationError is a CryptoError', () => {
    expect(new AttestationError('stale', 'x')).toBeInstanceOf(CryptoError);
  });
});
