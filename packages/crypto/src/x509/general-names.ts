/**
 * @internal GeneralName (RFC 5280 4.2.1.6) reading and the syntax rules for the name forms we
 * process: dNSName, rfc822Name, URI, iPAddress, directoryName. Other forms are kept as opaque.
 */
import { children, content, DerError, type DerNode, readOid, readString, seq, TAG } from './der.js';

export type GeneralName =
  | { readonly kind: 'dns'; readonly value: string }
  | { readonly kind: 'email'; readonly value: string }
  | { readonly kind: 'uri'; readonly value: string }
  | { readonly kind: 'ip'; readonly bytes: Buffer }
  | { readonly kind: 'dn'; readonly rdns: readonly Rdn[] }
  | { readonly kind: 'other'; readonly tag: number };

/** One RDN: its attributes as `oid=normalized value`, sorted (multi-valued RDNs compare as sets). */
export type Rdn = readonly string[];

const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

/**
 * caseIgnoreMatch, simplified from RFC 4518: case-folded, leading and trailing spaces removed,
 * inner runs of spaces collapsed. Two encodings of the same text compare equal, so an excluded
 * directory name cannot be dodged by re-encoding it.
 */
function normalize(value: string): string {
  return value.trim().replace(/ +/g, ' ').toLowerCase();
}

/** A Name as RDNs of normalized attributes; `emails` are the subject's emailAddress values. */
export function readRdns(node: DerNode): { rdns: Rdn[]; emails: string[] } {
  const rdns: Rdn[] = [];
  const emails: string[] = [];
  for (const rdn of seq(node, 'Name')) {
    const attrs: string[] = [];
    for (const atv of seq(rdn, 'RelativeDistinguishedName', TAG.SET)) {
      const [typeNode, valueNode] = seq(atv, 'AttributeTypeAndValue');
      const oid = readOid(typeNode, 'attribute type');
      if (valueNode === undefined) throw new DerError('bad AttributeTypeAndValue');
      const value = readString(valueNode, 'attribute value');
      if (oid === EMAIL_ADDRESS) emails.push(value);
      attrs.push(`${oid}=${normalize(value)}`);
    }
    rdns.push(attrs.sort());
  }
  return { rdns, emails };
}

function ia5(node: DerNode, what: string): string {
  const bytes = content(node);
  for (const b of bytes) if (b > 0x7e || b < 0x20) throw new DerError(`${what}: not printable IA5`);
  return bytes.toString('latin1');
}

/** One GeneralName (the CHOICE's context tags, IMPLICIT except directoryName). */
export function readGeneralName(node: DerNode): GeneralName {
  switch (node.tag) {
    case 0x81:
      return { kind: 'email', value: ia5(node, 'rfc822Name') };
    case 0x82:
      return { kind: 'dns', value: ia5(node, 'dNSName') };
    case 0x86:
      return { kind: 'uri', value: ia5(node, 'uniformResourceIdentifier') };
    case 0x87:
      return { kind: 'ip', bytes: Buffer.from(content(node)) };
    case 0xa4: {
      const [name, extra] = children(node);
      if (name === undefined || extra !== undefined) throw new DerError('bad directoryName');
      return { kind: 'dn', rdns: readRdns(name).rdns };
    }
    case 0xa0:
    case 0xa3:
    case 0xa5:
    case 0x88:
      return { kind: 'other', tag: node.tag };
    default:
      throw new DerError(`unknown GeneralName tag 0x${node.tag.toString(16)}`);
  }
}

export function readGeneralNames(node: DerNode): GeneralName[] {
  const names = seq(node, 'GeneralNames').map(readGeneralName);
  if (names.length === 0) throw new DerError('empty GeneralNames');
  return names;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A host name in preferred name syntax (RFC 1034 3.5 as relaxed by RFC 1123): LDH labels. */
export function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  return value.split('.').every((label) => LABEL.test(label));
}

/** A dNSName in a subjectAltName: a host name, optionally with a leading `*.` wildcard label. */
export function isDnsSan(value: string): boolean {
  return isHostName(value.startsWith('*.') ? value.slice(2) : value);
}

/** An rfc822Name mailbox: exactly one `@`, a non-empty local part without spaces, a host name. */
export function isMailbox(value: string): boolean {
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@')) return false;
  return /^[!-~]+$/.test(value.slice(0, at)) && isHostName(value.slice(at + 1));
}

/** The host of an absolute URI with an authority (`scheme://[userinfo@]host[:port]/...`), lowercased. */
export function uriHost(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]*)(?::\d*)?(?:[/?#]|$)/i.exec(uri);
  const host = m?.[1];
  return host !== undefined && isHostName(host) ? host.toLowerCase() : undefined;
}

/** Syntax rules of the name forms we read, for names a certificate asserts (SAN). */
export function sanSyntaxError(name: GeneralName): string | undefined {
  switch (name.kind) {
    case 'dns':
      return isDnsSan(name.value) ? undefined : 'dNSName is not a host name';
    case 'email':
      return isMailbox(name.value) ? undefined : 'rfc822Name is not a mailbox';
    case 'ip':
      return name.bytes.length === 4 || name.bytes.length === 16
        ? undefined
        : 'iPAddress is not 4 or 16 bytes';
    default:
      return undefined;
  }
}
