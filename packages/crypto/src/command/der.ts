import { DerSignatureError } from './errors.js';

const ORDERS: Readonly<Record<number, bigint>> = {
  // P-256 and P-384 group orders: R and S must lie in [1, n-1].
  32: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  48: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function readLength(der: Uint8Array, at: number): { length: number; next: number } {
  const first = der[at];
  if (first === undefined) throw new DerSignatureError('truncated length');
  if (first < 0x80) return { length: first, next: at + 1 };
  if (first === 0x81) {
    const value = der[at + 1];
    if (value === undefined) throw new DerSignatureError('truncated length');
    if (value < 0x80) throw new DerSignatureError('non-minimal long-form length');
    return { length: value, next: at + 2 };
  }
  // 0x80 (indefinite) is BER only; lengths >= 256 never occur for P-256/P-384 signatures.
  throw new DerSignatureError('unsupported length encoding');
}

function readInteger(der: Uint8Array, at: number, size: number): { value: Uint8Array; next: number } {
  if (der[at] !== 0x02) throw new DerSignatureError('expected INTEGER');
  const { length, next } = readLength(der, at + 1);
  if (length === 0) throw new DerSignatureError('empty INTEGER');
  if (length > size + 1) throw new DerSignatureError('INTEGER too long');
  const end = next + length;
  if (end > der.length) throw new DerSignatureError('truncated INTEGER');
  let value = der.subarray(next, end);
  const first = value[0] ?? 0;
  if (first & 0x80) throw new DerSignatureError('negative INTEGER');
  if (first === 0x00) {
    const second = value[1];
    if (second === undefined) throw new DerSignatureError('zero INTEGER');
    if ((second & 0x80) === 0) throw new DerSignatureError('non-minimal INTEGER (superfluous leading zero)');
    value = value.subarray(1);
  }
  if (value.length > size) throw new DerSignatureError('INTEGER too long');
  return { value, next: end };
}

/**
 * Convert a DER ECDSA signature (`SEQUENCE { r INTEGER, s INTEGER }`, as AWS KMS and
 * node:crypto return it) to the fixed-width `R || S` that JWS requires (RFC 7518 §3.4).
 * Parsing is strict DER: minimal lengths and integers, no trailing bytes, 0 < R,S < n.
 * Short integers are left-padded with zeros; a leading sign byte is dropped.
 *
 * @param size byte width of one coordinate (32 for P-256, 48 for P-384)
 * @throws DerSignatureError on anything that is not strict DER of that size
 * @example
 * const raw = derToJose(kmsSignature, 32); // 64 bytes
 */
export function derToJose(der: Uint8Array, size: number): Uint8Array {
  const order = ORDERS[size];
  if (order === undefined) throw new DerSignatureError(`unsupported coordinate size ${size}`);
  if (der[0] !== 0x30) throw new DerSignatureError('expected SEQUENCE');
  const { length, next } = readLength(der, 1);
  if (next + length !== der.length) throw new DerSignatureError('SEQUENCE length does not match input');
  const r = readInteger(der, next, size);
  const s = readInteger(der, r.next, size);
  if (s.next !== der.length) throw new DerSignatureError('trailing bytes inside SEQUENCE');
  const out = new Uint8Array(size * 2);
  for (const [i, part] of [r.value, s.value].entries()) {
    const n = toBigInt(part);
    if (n === 0n || n >= order) throw new DerSignatureError('INTEGER out of range');
    out.set(part, i * size + (size - part.length));
  }
  return out;
}

function integerDer(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  const pad = (trimmed[0] ?? 0) & 0x80 ? 1 : 0;
  const out = new Uint8Array(2 + pad + trimmed.length);
  out[0] = 0x02;
  out[1] = pad + trimmed.length;
  out.set(trimmed, 2 + pad);
  return out;
}

/**
 * The inverse of {@link derToJose}: fixed-width `R || S` to DER. Used by tests and by
 * verifiers whose API wants DER.
 * @example const der = joseToDer(jwsSignature); // for crypto.verify with dsaEncoding 'der'
 */
export function joseToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 2 * 66) {
    throw new DerSignatureError('JOSE signature length must be even and non-zero');
  }
  const half = raw.length / 2;
  const r = integerDer(raw.subarray(0, half));
  const s = integerDer(raw.subarray(half));
  const body = r.length + s.length;
  const header = body < 0x80 ? [0x30, body] : [0x30, 0x81, body];
  const out = new Uint8Array(header.length + body);
  out.set(header, 0);
  out.set(r, header.length);
  out.set(s, header.length + r.length);
  return out;
}
