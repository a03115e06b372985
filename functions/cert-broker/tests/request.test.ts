import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedRequestError, PayloadTooLargeError } from '../src/errors.js';
import { MAX_BODY_BYTES, parseCertificateRequest } from '../src/request.js';

const CSR = '-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIBAA==\n-----END CERTIFICATE-----\n';

describe('parseCertificateRequest (the edge of untrusted input)', () => {
  it('accepts the two documented shapes', () => {
    expect(parseCertificateRequest(JSON.stringify({ csr: CSR }))).toEqual({ csr: CSR });
    const attestation = { certificate: CERT, signedAt: '2026-11-25T09:30:00Z', signature: 'MEUCIQ==' };
    expect(parseCertificateRequest(JSON.stringify({ csr: CSR, attestation }))).toEqual({
      csr: CSR,
      attestation,
    });
  });

  it('decodes base64 bodies', () => {
    const body = Buffer.from(JSON.stringify({ csr: CSR })).toString('base64');
    expect(parseCertificateRequest(body, true)).toEqual({ csr: CSR });
  });

  it.each([
    ['empty body', undefined],
    ['not JSON', 'csr='],
    ['JSON array', '[]'],
    ['JSON null', 'null'],
    ['csr not a string', JSON.stringify({ csr: 42 })],
    ['csr not PEM', JSON.stringify({ csr: 'MIIBAA==' })],
    ['certificate PEM as csr', JSON.stringify({ csr: CERT })],
    ['unknown top-level field', JSON.stringify({ csr: CSR, subject: 'CN=root' })],
    [
      'attestation without signature',
      JSON.stringify({ csr: CSR, attestation: { certificate: CERT, signedAt: '2026-11-25T09:30:00Z' } }),
    ],
    [
      'signedAt with an offset',
      JSON.stringify({
        csr: CSR,
        attestation: { certificate: CERT, signedAt: '2026-11-25T10:30:00+01:00', signature: 'AA==' },
      }),
    ],
    [
      'impossible date',
      JSON.stringify({
        csr: CSR,
        attestation: { certificate: CERT, signedAt: '2026-13-45T25:61:00Z', signature: 'AA==' },
      }),
    ],
    [
      'signature not base64',
      JSON.stringify({
        csr: CSR,
        attestation: { certificate: CERT, signedAt: '2026-11-25T09:30:00Z', signature: '***' },
      }),
    ],
  ])('rejects %s with MalformedRequestError', (_name, body) => {
    expect(() => parseCertificateRequest(body)).toThrow(MalformedRequestError);
  });

  it('rejects a body over 16 KiB with PayloadTooLargeError, also when base64-encoded', () => {
    const body = JSON.stringify({ csr: CSR, pad: 'x'.repeat(MAX_BODY_BYTES) });
    expect(() => parseCertificateRequest(body)).toThrow(PayloadTooLargeError);
    expect(() => parseCertificateRequest(Buffer.from(body).toString('base64'), true)).toThrow(
      PayloadTooLargeError,
    );
  });

  it('property: any string either parses to the schema or fails with one of the two typed errors', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (body) => {
          try {
            const parsed = parseCertificateRequest(body);
            expect(typeof parsed.csr).toBe('string');
          } catch (error) {
            expect(error instanceof MalformedRequestError || error instanceof PayloadTooLargeError).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: objects with arbitrary extra or wrongly typed fields never pass', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== 'csr' && k !== 'attestation'),
          fc.jsonValue(),
          { minKeys: 1 },
        ),
        (extra) => {
          expect(() => parseCertificateRequest(JSON.stringify({ csr: CSR, ...extra }))).toThrow(
            MalformedRequestError,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
