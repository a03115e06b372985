/** @internal Extension decoding. */
import {
  children,
  content,
  DerError,
  type DerNode,
  expect,
  readBoolean,
  readNamedBits,
  readOctetString,
  readOid,
  readRoot,
  readSmallInt,
  seq,
  TAG,
} from './der.js';
import { OIDS } from './oids.js';
import type { Extension, KeyUsageFlag } from './types.js';

/** Parses an Extensions SEQUENCE; duplicate OIDs are malformed (RFC 5280 4.2). */
export function readExtensions(node: DerNode): Extension[] {
  const out: Extension[] = [];
  const seen = new Set<string>();
  for (const ext of seq(node, 'Extensions')) {
    const fields = seq(ext, 'Extension');
    const oid = readOid(fields[0], 'extnID');
    let critical = false;
    let valueNode = fields[1];
    if (valueNode?.tag === TAG.BOOLEAN) {
      // An explicit FALSE is not DER but common in the field; it means non-critical.
      critical = readBoolean(valueNode, 'critical');
      valueNode = fields[2];
      if (fields.length !== 3) throw new DerError('bad Extension');
    } else if (fields.length !== 2) {
      throw new DerError('bad Extension');
    }
    if (seen.has(oid)) throw new DerError(`duplicate extension ${oid}`);
    seen.add(oid);
    out.push({ oid, critical, value: Buffer.from(readOctetString(valueNode, 'extnValue')) });
  }
  return out;
}

export function decodeBasicConstraints(value: Buffer): { ca: boolean; pathLen: number | undefined } {
  const fields = seq(readRoot(value), 'BasicConstraints');
  let ca = false;
  let pathLen: number | undefined;
  let i = 0;
  if (fields[i]?.tag === TAG.BOOLEAN) {
    ca = readBoolean(fields[i], 'cA');
    i++;
  }
  if (fields[i] !== undefined) {
    pathLen = readSmallInt(fields[i], 'pathLenConstraint');
    i++;
  }
  if (i !== fields.length) throw new DerError('bad BasicConstraints');
  return { ca, pathLen };
}

const KU_NAMES: readonly KeyUsageFlag[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export function decodeKeyUsage(value: Buffer): Set<KeyUsageFlag> {
  const bits = readNamedBits(readRoot(value), 'KeyUsage');
  const out = new Set<KeyUsageFlag>();
  bits.forEach((set, i) => {
    const name = KU_NAMES[i];
    if (set && name !== undefined) out.add(name);
  });
  return out;
}

export function decodeExtKeyUsage(value: Buffer): string[] {
  const list = seq(readRoot(value), 'ExtKeyUsageSyntax');
  if (list.length === 0) throw new DerError('empty ExtKeyUsageSyntax');
  return list.map((n) => readOid(n, 'KeyPurposeId'));
}

/** GeneralNames: URIs ([6]) and dNSNames ([2]). */
export function decodeGeneralNames(node: DerNode): { uris: string[]; dns: string[] } {
  const uris: string[] = [];
  const dns: string[] = [];
  for (const gn of seq(node, 'GeneralNames')) {
    if (gn.tag === 0x86) uris.push(content(gn).toString('latin1'));
    else if (gn.tag === 0x82) dns.push(content(gn).toString('latin1'));
  }
  return { uris, dns };
}

export function decodeSubjectAltName(value: Buffer): { uris: string[]; dns: string[] } {
  return decodeGeneralNames(readRoot(value));
}

export function decodeAiaOcsp(value: Buffer): string[] {
  const out: string[] = [];
  const descriptions = seq(readRoot(value), 'AuthorityInfoAccessSyntax');
  // SIZE (1..MAX): an empty AIA is malformed (RFC 5280 4.2.2.1).
  if (descriptions.length === 0) throw new DerError('empty AuthorityInfoAccessSyntax');
  for (const ad of descriptions) {
    const [method, location] = seq(ad, 'AccessDescription');
    if (location === undefined) throw new DerError('bad AccessDescription');
    if (readOid(method, 'accessMethod') === OIDS.accessOcsp && location.tag === 0x86) {
      out.push(content(location).toString('latin1'));
    }
  }
  return out;
}

export function decodeSubjectKeyId(value: Buffer): Buffer {
  return Buffer.from(readOctetString(readRoot(value), 'SubjectKeyIdentifier'));
}

export interface AuthorityKeyIdentifier {
  readonly keyId: Buffer | undefined;
  /** authorityCertIssuer or authorityCertSerialNumber present. */
  readonly names: boolean;
}

export function decodeAuthorityKeyId(value: Buffer): AuthorityKeyIdentifier {
  const fields = children(expect(readRoot(value), TAG.SEQUENCE, 'AuthorityKeyIdentifier'));
  let last = -1;
  for (const f of fields) {
    const n = f.tag & 0x1f;
    if ((f.tag & 0xc0) !== 0x80 || n > 2 || n <= last) throw new DerError('bad AuthorityKeyIdentifier');
    last = n;
  }
  const keyId = fields.find((f) => f.tag === 0x80);
  return {
    keyId: keyId === undefined ? undefined : Buffer.from(content(keyId)),
    names: fields.some((f) => f.tag !== 0x80),
  };
}
