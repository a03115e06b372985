/** @internal PEM decoding and encoding. */
import { CertificateParseError } from './errors.js';

const B64_BODY = /^[A-Za-z0-9+/=\s]*$/;

/** Every block with one of `labels`, in order (other blocks are skipped). */
/** Largest PEM text we read (a trust bundle of a few hundred certificates). */
export const MAX_PEM_CHARS = 4 * 1024 * 1024;

export function pemBlocks(text: string, labels: readonly string[]): Buffer[] {
  if (text.length > MAX_PEM_CHARS) throw new CertificateParseError('pem', 'PEM text too large');
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', pos);
    if (begin < 0) break;
    const labelEnd = text.indexOf('-----', begin + 11);
    if (labelEnd < 0) throw new CertificateParseError('pem', 'unterminated PEM header');
    const label = text.slice(begin + 11, labelEnd);
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, labelEnd + 5);
    if (end < 0) throw new CertificateParseError('pem', `missing END line for ${label.slice(0, 40)}`);
    pos = end + endMarker.length;
    if (!labels.includes(label)) continue;
    const body = text.slice(labelEnd + 5, end);
    if (!B64_BODY.test(body)) throw new CertificateParseError('pem', `invalid characters in PEM ${label}`);
    const compact = body.replace(/\s+/g, '');
    if (compact.length === 0 || compact.length % 4 !== 0 || /=[^=]/.test(compact)) {
      throw new CertificateParseError('pem', `invalid base64 in PEM ${label}`);
    }
    out.push(Buffer.from(compact, 'base64'));
  }
  return out;
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const PEM_PREFIX = Buffer.from('-----BEGIN ');

/** Input as DER: PEM text (string or bytes) is decoded (first block with one of `labels`). */
export function derFromInput(
  input: string | Uint8Array,
  labels: readonly string[],
  kind: 'certificate' | 'csr',
): Buffer {
  let text: string | undefined;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const trimmedStart = buf.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (
      trimmedStart >= 0 &&
      buf.subarray(trimmedStart, trimmedStart + PEM_PREFIX.length).equals(PEM_PREFIX)
    ) {
      text = buf.toString('latin1');
    } else {
      return Buffer.from(buf);
    }
  } else {
    throw new CertificateParseError(kind, 'input must be a string or bytes');
  }
  const [first] = pemBlocks(text, labels);
  if (first === undefined) throw new CertificateParseError('pem', `no ${labels[0]} PEM block found`);
  return first;
}
