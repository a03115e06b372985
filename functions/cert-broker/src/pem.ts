/**
 * Strict PEM (RFC 7468 "strict" textual encoding, line length free): what the broker accepts in
 * `csr`, `attestation.certificate` and the mutual-TLS client certificate. A field is a sequence of
 * blocks with nothing but whitespace around and between them: no explanatory text, no other
 * label, no second CSR, no data after the last END line. Every failure names the check that
 * failed (logged, never returned).
 */

import { PemFormatError } from './errors.js';

export { type PemCheck, PemFormatError } from './errors.js';

export interface StrictPemOptions {
  /** The label(s) a block may carry (e.g. `CERTIFICATE REQUEST`); the END line repeats it. */
  readonly label: string | readonly string[];
  /** Fewest and most blocks (default exactly one). */
  readonly minBlocks?: number;
  readonly maxBlocks?: number;
}

/** `csr`: exactly one PKCS#10 block (RFC 7468 allows the legacy `NEW CERTIFICATE REQUEST` label). */
export const CSR_PEM: StrictPemOptions = { label: ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'] };
/** `attestation.certificate` and the mutual-TLS client certificate: the leaf, then at most 7 intermediates. */
export const CHAIN_PEM: StrictPemOptions = { label: 'CERTIFICATE', maxBlocks: 8 };

const WS = /^[ \t\r\n]*$/;
const BEGIN = /^-----BEGIN ([A-Z0-9 ]{1,40})-----[ \t]*\r?\n/;
/** Base64 lines (standard alphabet) with line breaks; padding only at the very end. */
const BODY = /^(?:[A-Za-z0-9+/]+[ \t]*\r?\n)*(?:[A-Za-z0-9+/]*={0,2}[ \t]*\r?\n)$/;

/**
 * Decodes `text` into the DER of each block, or throws {@link PemFormatError}.
 *
 * @example
 * const [csrDer] = parseStrictPem(body.csr, { label: 'CERTIFICATE REQUEST' });
 * const chain = parseStrictPem(body.attestation.certificate, { label: 'CERTIFICATE', maxBlocks: 8 });
 */
export function parseStrictPem(text: unknown, options: StrictPemOptions): Buffer[] {
  if (typeof text !== 'string') throw new PemFormatError('pem-not-text', 'PEM must be text');
  const min = options.minBlocks ?? 1;
  const max = options.maxBlocks ?? 1;
  const blocks: Buffer[] = [];
  let rest = text;
  for (;;) {
    const start = rest.indexOf('-----BEGIN ');
    if (start < 0) {
      if (!WS.test(rest)) throw new PemFormatError('pem-text-outside-blocks', 'text after the last block');
      break;
    }
    if (!WS.test(rest.slice(0, start))) {
      throw new PemFormatError('pem-text-outside-blocks', 'text before or between blocks');
    }
    rest = rest.slice(start);
    const begin = BEGIN.exec(rest);
    if (begin === null) throw new PemFormatError('pem-label', 'malformed BEGIN line');
    const label = begin[1] ?? '';
    const allowed: readonly string[] = typeof options.label === 'string' ? [options.label] : options.label;
    if (!allowed.includes(label)) throw new PemFormatError('pem-label', 'unexpected PEM label');
    const endLine = `-----END ${label}-----`;
    const end = rest.indexOf('-----', begin[0].length);
    if (end < 0) throw new PemFormatError('pem-unterminated', 'no END line');
    if (!rest.startsWith(endLine, end))
      throw new PemFormatError('pem-label-mismatch', 'END line does not match');
    const body = rest.slice(begin[0].length, end);
    const compact = body.replace(/[ \t\r\n]/g, '');
    if (!BODY.test(body) || compact.length === 0 || compact.length % 4 !== 0 || /=[^=]|={3}/.test(compact)) {
      throw new PemFormatError('pem-base64', 'invalid base64 between BEGIN and END');
    }
    const der = Buffer.from(compact, 'base64');
    // Canonical base64 only: non-zero padding bits would let two texts encode one DER.
    if (der.toString('base64') !== compact) throw new PemFormatError('pem-base64', 'non-canonical base64');
    blocks.push(der);
    if (blocks.length > max) throw new PemFormatError('pem-block-count', 'too many PEM blocks');
    rest = rest.slice(end + endLine.length);
  }
  if (blocks.length === 0) throw new PemFormatError('pem-empty', 'no PEM block');
  if (blocks.length < min) throw new PemFormatError('pem-block-count', 'too few PEM blocks');
  return blocks;
}

/** Re-encodes DER as canonical PEM (64-character lines, LF). */
export function toPem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
