/** Strict PEM (issue 12 item 7), property-based: the parser of every PEM field of the request. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedRequestError } from '../src/errors.js';
import { PemFormatError, parseStrictPem, toPem } from '../src/pem.js';
import { parseCertificateRequest } from '../src/request.js';

const CSR = { label: 'CERTIFICATE REQUEST' } as const;
const CHAIN = { label: 'CERTIFICATE', maxBlocks: 8 } as const;

const der = fc.uint8Array({ minLength: 1, maxLength: 600 });
const ws = fc.stringMatching(/^[ \t\r\n]{0,6}$/);
/** Text with at least one character that is not PEM whitespace. */
const junk = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => /[^ \t\r\n]/.test(s));

/** A block in any legal layout: line width 4..96 (multiple of 4), LF or CRLF. */
const block = (label: string) =>
  fc
    .record({ der, width: fc.integer({ min: 1, max: 24 }), crlf: fc.boolean() })
    .map(({ der, width, crlf }) => {
      const eol = crlf ? '\r\n' : '\n';
      const lines =
        Buffer.from(der)
          .toString('base64')
          .match(new RegExp(`.{1,${width * 4}}`, 'g')) ?? [];
      return {
        der: Buffer.from(der),
        text: `-----BEGIN ${label}-----${eol}${lines.join(eol)}${eol}-----END ${label}-----`,
      };
    });

function failure(text: string, options: Parameters<typeof parseStrictPem>[1]): string {
  try {
    parseStrictPem(text, options);
  } catch (error) {
    if (error instanceof PemFormatError) return error.check;
    throw error;
  }
  return 'accepted';
}

describe('parseStrictPem (property-based)', () => {
  it('any DER in any legal layout, with whitespace around, decodes to exactly that DER', () => {
    fc.assert(
      fc.property(block('CERTIFICATE REQUEST'), ws, ws, (b, before, after) => {
        expect(parseStrictPem(`${before}${b.text}${after}`, CSR)).toEqual([b.der]);
      }),
      { numRuns: 400 },
    );
  });

  it('a chain of 1..8 CERTIFICATE blocks separated by whitespace decodes block by block, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(block('CERTIFICATE'), ws), { minLength: 1, maxLength: 8 }), (blocks) => {
        const text = blocks.map(([b, sep]) => `${b.text}${sep}`).join('\n');
        expect(parseStrictPem(text, CHAIN)).toEqual(blocks.map(([b]) => b.der));
      }),
      { numRuns: 200 },
    );
  });

  it('any non-whitespace text before, between or after blocks is refused, never ignored', () => {
    fc.assert(
      fc.property(
        block('CERTIFICATE REQUEST'),
        junk,
        fc.constantFrom('before', 'after'),
        (b, text, where) => {
          const input = where === 'before' ? `${text}\n${b.text}` : `${b.text}\n${text}`;
          expect(failure(input, CSR)).not.toBe('accepted');
        },
      ),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(block('CERTIFICATE'), block('CERTIFICATE'), junk, (a, b, text) => {
        expect(failure(`${a.text}\n${text}\n${b.text}`, CHAIN)).not.toBe('accepted');
      }),
      { numRuns: 200 },
    );
  });

  it('a second block is refused where one is allowed, whatever its label', () => {
    fc.assert(
      fc.property(
        block('CERTIFICATE REQUEST'),
        fc.constantFrom('CERTIFICATE REQUEST', 'CERTIFICATE', 'PRIVATE KEY', 'EC PRIVATE KEY'),
        ws,
        (first, label, sep) => {
          const second = toPem(label, Buffer.from([0x30, 0x00]));
          expect(['pem-block-count', 'pem-label']).toContain(failure(`${first.text}${sep}${second}`, CSR));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('arbitrary text either decodes to blocks that re-encode to the same DER, or fails with a PemFormatError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          block('CERTIFICATE REQUEST').chain((b) =>
            fc
              .tuple(fc.nat({ max: b.text.length }), fc.string({ maxLength: 3 }))
              .map(([at, s]) => b.text.slice(0, at) + s + b.text.slice(at)),
          ),
        ),
        (text) => {
          let blocks: Buffer[];
          try {
            blocks = parseStrictPem(text, CSR);
          } catch (error) {
            expect(error).toBeInstanceOf(PemFormatError);
            return;
          }
          expect(blocks).toHaveLength(1);
          expect(parseStrictPem(toPem('CERTIFICATE REQUEST', blocks[0] ?? Buffer.alloc(0)), CSR)).toEqual(
            blocks,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('base64 is canonical: padding bits set, misplaced padding or a non-base64 character is refused', () => {
    const pem = (body: string) =>
      `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(failure(pem('MIIB'), CSR)).toBe('accepted');
    expect(failure(pem('AB=='), CSR)).toBe('pem-base64'); // 'AA==' is the canonical encoding of 0x00
    expect(failure(pem('AA==AAAA'), CSR)).toBe('pem-base64');
    expect(failure(pem('AA*A'), CSR)).toBe('pem-base64');
    expect(failure(pem(''), CSR)).toBe('pem-base64');
    expect(failure('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE-----\n', CSR)).toBe(
      'pem-label-mismatch',
    );
    expect(
      failure('-----BEGIN CERTIFICATE REQUEST----- x\nMIIB\n-----END CERTIFICATE REQUEST-----', CSR),
    ).toBe('pem-label');
    expect(failure('-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n', CSR)).toBe('pem-unterminated');
    expect(failure('  \n', CSR)).toBe('pem-empty');
  });
});

describe('parseCertificateRequest with strict PEM (property-based)', () => {
  const csr = toPem('CERTIFICATE REQUEST', Buffer.from('3082010a', 'hex'));
  const cert = toPem('CERTIFICATE', Buffer.from('3082010b', 'hex'));
  const attestation = { certificate: cert, signedAt: '2026-11-25T09:30:00Z', signature: 'MEUCIQ==' };

  it('appending any non-whitespace text to csr or attestation.certificate is a 400 naming the PEM check', () => {
    fc.assert(
      fc.property(junk, fc.constantFrom('csr', 'attestation.certificate'), (text, field) => {
        const body =
          field === 'csr'
            ? { csr: `${csr}${text}`, attestation }
            : { csr, attestation: { ...attestation, certificate: `${cert}${text}` } };
        try {
          parseCertificateRequest(JSON.stringify(body));
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedRequestError);
          expect((error as MalformedRequestError).field).toBe(field);
          expect((error as MalformedRequestError).check).toMatch(/^pem-/);
          return;
        }
        throw new Error('accepted');
      }),
      { numRuns: 300 },
    );
  });
});
