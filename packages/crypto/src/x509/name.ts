/** @internal X.501 Name helpers. */
import { children, DerError, type DerNode, expect, readOid, readString, seq, TAG } from './der.js';
import { ATTRIBUTE_NAMES } from './oids.js';

export interface NameInfo {
  readonly text: string;
  readonly commonName: string | undefined;
}

function escapeValue(v: string): string {
  return v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`).replace(/^[ #]|[ ]$/g, (c) => `\\${c}`);
}

/** One-line form (RFC 4514 order: last RDN first) and the first CN. */
export function describeName(node: DerNode): NameInfo {
  const rdns = seq(node, 'Name');
  const parts: string[] = [];
  let commonName: string | undefined;
  for (const rdn of rdns) {
    const atvs = children(expect(rdn, TAG.SET, 'RelativeDistinguishedName'));
    if (atvs.length === 0) throw new DerError('empty RDN');
    const rendered: string[] = [];
    for (const atv of atvs) {
      const [typeNode, valueNode, ...extra] = seq(atv, 'AttributeTypeAndValue');
      if (valueNode === undefined || extra.length > 0) throw new DerError('bad AttributeTypeAndValue');
      const oid = readOid(typeNode, 'attribute type');
      // Like OpenSSL, only string types are accepted as attribute values; invalid UTF-8 is refused,
      // so two different encodings never read as the same name.
      const value = readString(valueNode, 'attribute value');
      if (oid === '2.5.4.3' && commonName === undefined) commonName = value;
      const rendered1 = escapeValue(value);
      rendered.push(`${ATTRIBUTE_NAMES[oid] ?? oid}=${rendered1}`);
    }
    parts.unshift(rendered.join('+'));
  }
  return { text: parts.join(','), commonName };
}
