/**
 * Property tests for every parser of untrusted input: any input yields a value or a typed
 * CryptoError, never another exception. Inputs: random bytes, random DER trees, and mutations
 * (byte flips, truncations, insertions) of valid certificates, CSRs and OCSP responses.
 */
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyAttestationProof } from '../src/attestation/index.js';
import { CryptoError } from '../src/errors.js';
import { parseOcspResponse, verifyOcspResponse } from '../src/ocsp/index.js';
import {
  createTrustStore,
  parseCertificate,
  parseCertificates,
  parseCsr,
  validateChain,
  verifyCsrSignature,
} from '../src/x509/index.js';
import { createChain, createCsr, createLeaf, sharedKey, tlv } from './helpers/pki.js';
import { buildOcspResponse } from './helpers/pki-ocsp.js';

const RUNS = 1000;

/** Runs `fn`; fails the property on any throw that is not a CryptoError. */
function typedOnly(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (error instanceof CryptoError) return true;
    throw error;
  }
}

const { root, intermediate, leaf } = createChain({
  root: { key: sharedKey('P-256', 60) },
  intermediate: { key: sharedKey('P-256', 61) },
  leaf: { key: sharedKey('P-256', 62), sanUris: ['urn:cv:x'], ocspUrl: 'http://ocsp.example.com/' },
});
const rsaLeaf = createLeaf(intermediate, { key: sharedKey('rsa2048', 63) });
const csr = createCsr({ key: sharedKey('P-256', 64), sanUris: ['urn:cv:y'] });
const trust = createTrustStore(root.pem);
const issuerCert = parseCertificate(intermediate.der);
const leafCert = parseCertificate(leaf.der);
const ocspResponse = buildOcspResponse({
  responses: [
    {
      cert: leaf,
      issuer: intermediate,
      status: 'revoked',
      reason: 1,
      thisUpdate: new Date(),
      nextUpdate: new Date(Date.now() + 3_600_000),
    },
  ],
  signerKey: intermediate.key.privateKey,
  nonce: Buffer.alloc(16, 1),
  certs: [leaf],
});

/** Random DER-ish trees: plausible tags, nested constructed values. */
const derTree: fc.Arbitrary<Buffer> = fc.letrec<{ node: Buffer }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(
        fc.constantFrom(
          0x01,
          0x02,
          0x03,
          0x04,
          0x05,
          0x06,
          0x0a,
          0x0c,
          0x13,
          0x16,
          0x17,
          0x18,
          0x80,
          0x82,
          0x86,
        ),
        fc.uint8Array({ maxLength: 40 }),
      )
      .map(([tag, bytes]) => tlv(tag, bytes)),
    fc
      .tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa2, 0xa3), fc.array(tie('node'), { maxLength: 6 }))
      .map(([tag, kids]) => tlv(tag, ...kids)),
  ),
})).node;

/** Mutations of a valid encoding. */
function mutations(base: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
      const copy = Buffer.from(base);
      copy[i] = v;
      return copy;
    }),
    fc
      .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 2,
        maxLength: 8,
      })
      .map((edits) => {
        const copy = Buffer.from(base);
        for (const [i, v] of edits) copy[i] = v;
        return copy;
      }),
    fc.nat({ max: base.length - 1 }).map((n) => base.subarray(0, n)),
    fc
      .tuple(fc.nat({ max: base.length }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([i, ins]) => Buffer.concat([base.subarray(0, i), ins, base.subarray(i)])),
  );
}

function touchCertificate(input: Uint8Array | string): void {
  const cert = parseCertificate(input);
  void [
    cert.subject,
    cert.issuer,
    cert.serialNumber,
    cert.keyInfo,
    cert.sanUris,
    cert.ocspUrls,
    cert.fingerprintSha256,
    cert.pem,
  ];
  void cert.publicKey;
  void cert.x509;
}

describe('certificate parser', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => typedOnly(() => touchCertificate(bytes))),
      { numRuns: RUNS },
    );
  });

  it('random DER trees', () => {
    fc.assert(
      fc.property(derTree, (bytes) => typedOnly(() => touchCertificate(bytes))),
      { numRuns: RUNS },
    );
  });

  it('mutated certificates (EC and RSA), then chain validation of whatever parses', () => {
    for (const base of [leaf.der, rsaLeaf.der]) {
      fc.assert(
        fc.property(mutations(base), (bytes) =>
          typedOnly(() => {
            touchCertificate(bytes);
            validateChain({ leaf: parseCertificate(bytes), intermediates: [issuerCert], trust });
          }),
        ),
        { numRuns: RUNS },
      );
    }
  });

  it('agrees with node:crypto on serial and validity whenever both parse a mutated certificate', () => {
    const strip = (hex: string) => hex.toLowerCase().replace(/^(-?)0(?=.)/, '$1');
    let both = 0;
    fc.assert(
      fc.property(mutations(leaf.der), (bytes) => {
        let ours: ReturnType<typeof parseCertificate> | undefined;
        let theirs: X509Certificate | undefined;
        try {
          ours = parseCertificate(bytes);
        } catch (error) {
          if (!(error instanceof CryptoError)) throw error;
        }
        try {
          theirs = new X509Certificate(bytes);
        } catch {
          theirs = undefined;
        }
        if (ours === undefined || theirs === undefined) return true;
        both++;
        return (
          strip(ours.serialNumber) === strip(theirs.serialNumber) &&
          ours.notBefore.getTime() === new Date(theirs.validFrom).getTime() &&
          ours.notAfter.getTime() === new Date(theirs.validTo).getTime()
        );
      }),
      { numRuns: RUNS },
    );
    expect(both).toBeGreaterThan(RUNS / 10);
  });

  it('mutated intermediates in the chain', () => {
    fc.assert(
      fc.property(mutations(intermediate.der), (bytes) =>
        typedOnly(() => validateChain({ leaf: leafCert, intermediates: [parseCertificate(bytes)], trust })),
      ),
      { numRuns: RUNS },
    );
  });

  it('PEM text: random strings and mangled PEM', () => {
    const mangled = fc
      .tuple(fc.nat({ max: leaf.pem.length - 1 }), fc.string({ maxLength: 4 }))
      .map(([i, s]) => leaf.pem.slice(0, i) + s + leaf.pem.slice(i + 1));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), mangled), (text) =>
        typedOnly(() => touchCertificate(text)),
      ),
      {
        numRuns: RUNS,
      },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), mangled), (text) =>
        typedOnly(() => parseCertificates(text)),
      ),
      {
        numRuns: RUNS,
      },
    );
  });

  it('non-string, non-bytes input is a typed error too', () => {
    for (const value of [null, undefined, 42, {}, []]) {
      expect(typedOnly(() => parseCertificate(value as unknown as string))).toBe(true);
      expect(typedOnly(() => parseCsr(value as unknown as string))).toBe(true);
    }
  });
});

describe('CSR parser', () => {
  it('random bytes, DER trees, mutations; signature check of whatever parses', () => {
    const check = (bytes: Uint8Array) =>
      typedOnly(() => {
        const parsed = parseCsr(bytes);
        void [parsed.subject, parsed.keyInfo, parsed.sanUris, parsed.pem];
        verifyCsrSignature(parsed);
      });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), check), { numRuns: RUNS });
    fc.assert(fc.property(derTree, check), { numRuns: RUNS });
    fc.assert(fc.property(mutations(csr.der), check), { numRuns: RUNS });
  });
});

describe('OCSP response parser and verifier', () => {
  const check = (bytes: Uint8Array) =>
    typedOnly(() =>
      verifyOcspResponse(parseOcspResponse(bytes), {
        cert: leafCert,
        issuer: issuerCert,
        nonce: Buffer.alloc(16, 1),
      }),
    );

  it('the unmutated response verifies (the property has teeth)', () => {
    expect(
      verifyOcspResponse(parseOcspResponse(ocspResponse), { cert: leafCert, issuer: issuerCert }).status,
    ).toBe('revoked');
  });

  it('random bytes, DER trees, mutations', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), check), { numRuns: RUNS });
    fc.assert(fc.property(derTree, check), { numRuns: RUNS });
    fc.assert(fc.property(mutations(ocspResponse), check), { numRuns: RUNS * 2 });
  });

  it('a mutation inside the signed data never yields an accepted answer', () => {
    // Bytes 30..end-80 are inside tbsResponseData for this response; any change there must not verify.
    fc.assert(
      fc.property(fc.integer({ min: 40, max: 200 }), fc.integer({ min: 1, max: 255 }), (i, delta) => {
        const copy = Buffer.from(ocspResponse);
        copy[i] = ((copy[i] ?? 0) + delta) & 0xff;
        try {
          verifyOcspResponse(parseOcspResponse(copy), { cert: leafCert, issuer: issuerCert });
          return false;
        } catch (error) {
          return error instanceof CryptoError;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('attestation proof inputs', () => {
  it('any signedAt and signature strings give ok or AttestationError', () => {
    const key = sharedKey('P-256', 65);
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 200 }), (signedAt, signature) =>
        typedOnly(() =>
          verifyAttestationProof({
            publicKey: key.publicKey,
            csrDer: csr.der,
            proof: { signedAt, signature },
            now: new Date(),
          }),
        ),
      ),
      { numRuns: RUNS },
    );
  });
});
