/**
 * A minimal, strict DER reader and writer: definite lengths in minimal form, low tag numbers only,
 * no indefinite lengths. Parsing is schema-driven by the callers, so recursion depth is bounded by
 * the ASN.1 structures we read, never by the input.
 * @internal
 */
import { CryptoError } from '../errors.js';

/** Malformed DER. Internal: public parsers convert it to their own error type. */
export class DerError extends CryptoError {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV. `start` is the tag offset, `contentStart`..`end` the value. */
export interface DerNode {
  readonly buf: Buffer;
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function readNode(buf: Buffer, offset: number, limit: number): DerNode {
  if (offset + 2 > limit) throw new DerError('truncated TLV');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let pos = offset + 1;
  const first = buf[pos++] as number;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4) throw new DerError('length too large');
    if (pos + n > limit) throw new DerError('truncated length');
    if (buf[pos] === 0) throw new DerError('non-minimal length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[pos++] as number);
    if (length < 0x80) throw new DerError('non-minimal length');
  }
  const end = pos + length;
  if (end > limit) throw new DerError('truncated value');
  return { buf, tag, start: offset, contentStart: pos, end };
}

/** Parses exactly one TLV spanning the whole buffer. */
export function readRoot(buf: Buffer): DerNode {
  const node = readNode(buf, 0, buf.length);
  if (node.end !== buf.length) throw new DerError('trailing data after DER value');
  return node;
}

export function isConstructed(node: DerNode): boolean {
  return (node.tag & 0x20) !== 0;
}

/** Direct children of a constructed node. */
export function children(node: DerNode): DerNode[] {
  if (!isConstructed(node)) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  let pos = node.contentStart;
  while (pos < node.end) {
    const child = readNode(node.buf, pos, node.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw new DerError(`missing ${what}`);
  if (node.tag !== tag)
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

/** Children of a node that must carry `tag`. */
export function seq(node: DerNode | undefined, what: string, tag: number = TAG.SEQUENCE): DerNode[] {
  return children(expect(node, tag, what));
}

export function content(node: DerNode): Buffer {
  return node.buf.subarray(node.contentStart, node.end);
}

/** The whole TLV bytes. */
export function raw(node: DerNode): Buffer {
  return node.buf.subarray(node.start, node.end);
}

export function readOid(node: DerNode | undefined, what = 'OBJECT IDENTIFIER'): string {
  const c = content(expect(node, TAG.OID, what));
  if (c.length === 0) throw new DerError(`${what}: empty`);
  const parts: number[] = [];
  let value = 0;
  let started = false;
  for (let i = 0; i < c.length; i++) {
    const b = c[i] as number;
    if (!started && b === 0x80) throw new DerError(`${what}: non-minimal arc`);
    started = true;
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 256) throw new DerError(`${what}: arc too large`);
    if ((b & 0x80) === 0) {
      parts.push(value);
      value = 0;
      started = false;
    }
  }
  if (started) throw new DerError(`${what}: truncated arc`);
  const firstArc = parts[0] as number;
  const head = firstArc < 40 ? [0, firstArc] : firstArc < 80 ? [1, firstArc - 40] : [2, firstArc - 80];
  return [...head, ...parts.slice(1)].join('.');
}

/** INTEGER content bytes (two's complement, sign byte kept). Rejects non-minimal encodings. */
export function readIntegerBytes(
  node: DerNode | undefined,
  what = 'INTEGER',
  tag: number = TAG.INTEGER,
): Buffer {
  const c = content(expect(node, tag, what));
  if (c.length === 0) throw new DerError(`${what}: empty`);
  if (c.length > 1) {
    const a = c[0] as number;
    const b = c[1] as number;
    if ((a === 0x00 && b < 0x80) || (a === 0xff && b >= 0x80)) throw new DerError(`${what}: non-minimal`);
  }
  return c;
}

/** A small non-negative INTEGER (or ENUMERATED) as a number. */
export function readSmallInt(node: DerNode | undefined, what = 'INTEGER', tag: number = TAG.INTEGER): number {
  const c = readIntegerBytes(node, what, tag);
  if (((c[0] as number) & 0x80) !== 0) throw new DerError(`${what}: negative`);
  if (c.length > 4) throw new DerError(`${what}: too large`);
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

export function readBoolean(node: DerNode | undefined, what = 'BOOLEAN'): boolean {
  const c = content(expect(node, TAG.BOOLEAN, what));
  if (c.length !== 1) throw new DerError(`${what}: bad length`);
  if (c[0] === 0xff) return true;
  if (c[0] === 0x00) return false;
  throw new DerError(`${what}: not DER`);
}

/** BIT STRING with no unused bits (keys, signatures). */
export function readBitStringBytes(node: DerNode | undefined, what = 'BIT STRING'): Buffer {
  const c = content(expect(node, TAG.BIT_STRING, what));
  if (c.length === 0) throw new DerError(`${what}: empty`);
  if (c[0] !== 0) throw new DerError(`${what}: unused bits where none are allowed`);
  return c.subarray(1);
}

/** BIT STRING as named bits: bit i set when index i is true. */
export function readNamedBits(node: DerNode | undefined, what = 'BIT STRING'): boolean[] {
  const c = content(expect(node, TAG.BIT_STRING, what));
  if (c.length === 0) throw new DerError(`${what}: empty`);
  const unused = c[0] as number;
  if (unused > 7 || (c.length === 1 && unused !== 0)) throw new DerError(`${what}: bad unused-bits count`);
  const bits: boolean[] = [];
  const total = (c.length - 1) * 8 - unused;
  for (let i = 0; i < total; i++) bits.push((((c[1 + (i >> 3)] as number) >> (7 - (i & 7))) & 1) === 1);
  return bits;
}

export function readOctetString(node: DerNode | undefined, what = 'OCTET STRING'): Buffer {
  return content(expect(node, TAG.OCTET_STRING, what));
}

const TIME_RE_UTC = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const TIME_RE_GEN = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/;

/** UTCTime or GeneralizedTime (the DER forms: seconds present, `Z`). */
export function readTime(node: DerNode | undefined, what = 'Time'): Date {
  if (node === undefined) throw new DerError(`missing ${what}`);
  const text = content(node).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  let fraction = 0;
  if (node.tag === TAG.UTC_TIME) {
    m = TIME_RE_UTC.exec(text);
    if (m === null) throw new DerError(`${what}: bad UTCTime`);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === TAG.GENERALIZED_TIME) {
    m = TIME_RE_GEN.exec(text);
    if (m === null) throw new DerError(`${what}: bad GeneralizedTime`);
    year = Number(m[1]);
    if (m[7] !== undefined) {
      if (m[7].endsWith('0')) throw new DerError(`${what}: trailing zero in fraction`);
      fraction = Math.floor(Number(`0.${m[7]}`) * 1000);
    }
  } else {
    throw new DerError(`${what}: not a time`);
  }
  const [mo, d, h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  const ms = Date.UTC(year, mo - 1, d, h, mi, s, fraction);
  const date = new Date(ms);
  if (
    Number.isNaN(ms) ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== s
  ) {
    throw new DerError(`${what}: invalid date`);
  }
  return date;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A directory string (UTF8, Printable, IA5, T61, BMP, Universal) as text. Invalid UTF-8 is refused. */
export function readString(node: DerNode, what = 'string'): string {
  const c = content(node);
  switch (node.tag) {
    case TAG.UTF8_STRING:
      try {
        return UTF8.decode(c);
      } catch {
        throw new DerError(`${what}: invalid UTF-8`);
      }
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.T61_STRING:
    case 0x1a: // VisibleString
      return c.toString('latin1');
    case TAG.BMP_STRING: {
      if (c.length % 2 !== 0) throw new DerError(`${what}: odd BMPString`);
      const swapped = Buffer.from(c);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case TAG.UNIVERSAL_STRING: {
      if (c.length % 4 !== 0) throw new DerError(`${what}: bad UniversalString`);
      let s = '';
      for (let i = 0; i < c.length; i += 4) {
        const cp = c.readUInt32BE(i);
        if (cp > 0x10ffff) throw new DerError(`${what}: bad code point`);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      throw new DerError(`${what}: unsupported string type 0x${node.tag.toString(16)}`);
  }
}

// ---------------------------------------------------------------- writer

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  let n = length;
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export function encSequence(...parts: readonly Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, ...parts);
}

export function encOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const [a = 0, b = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const stack = [arc & 0x7f];
    let v = Math.floor(arc / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** INTEGER from unsigned big-endian bytes (a sign byte is added when needed). */
export function encUnsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  const body = ((trimmed[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(TAG.INTEGER, body.length === 0 ? Buffer.from([0]) : body);
}

/** INTEGER from already-encoded content bytes (e.g. a certificate's serial). */
export function encIntegerContent(content: Uint8Array): Buffer {
  return tlv(TAG.INTEGER, content);
}

export function encOctetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

export function encNull(): Buffer {
  return Buffer.from([TAG.NULL, 0]);
}

/** `[n] EXPLICIT` wrapper. */
export function encExplicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | n, inner);
}
