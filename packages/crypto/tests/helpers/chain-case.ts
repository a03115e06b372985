/** Running one chain through validateChain and reading the verdict, plus raw extension builders. */
import { createHash } from 'node:crypto';
import {
  ChainValidationError,
  type ChainValidationOptions,
  createTrustStore,
  parseCertificate,
  validateChain,
} from '../../src/x509/index.js';
import { der, type KeyPair, OID, type RawExtension, type TestCert, tlv } from './pki.js';

export interface ChainCase {
  readonly anchors: readonly TestCert[];
  readonly intermediates?: readonly TestCert[];
  readonly leaf: TestCert;
}

export type Verdict = { reason: 'ok' } | { reason: string; depth: number; message: string };

/** validateChain's verdict: `ok`, or the failure reason with its depth. */
export function verdict(
  c: ChainCase,
  options: Partial<Omit<ChainValidationOptions, 'leaf' | 'intermediates' | 'trust'>> = {},
): Verdict {
  try {
    validateChain({
      leaf: parseCertificate(c.leaf.pem),
      intermediates: (c.intermediates ?? []).map((i) => parseCertificate(i.der)),
      trust: createTrustStore(c.anchors.map((a) => a.pem)),
      ...options,
    });
    return { reason: 'ok' };
  } catch (error) {
    if (error instanceof ChainValidationError) {
      return { reason: error.reason, depth: error.depth, message: error.message };
    }
    throw error;
  }
}

/** The key identifier the PKI helper puts in SKI/AKI (SHA-1 over the SPKI). */
export function keyId(key: KeyPair): Buffer {
  return createHash('sha1').update(key.spki).digest();
}

export const ext = {
  ski: (key: KeyPair, critical = false): RawExtension => ({
    oid: OID.subjectKeyIdentifier,
    critical,
    value: der.octets(keyId(key)),
  }),
  /** AKI with keyIdentifier (of `issuerKey`), and/or authorityCertSerialNumber. */
  aki: (
    issuerKey: KeyPair | undefined,
    opts: { critical?: boolean; serial?: boolean } = {},
  ): RawExtension => ({
    oid: OID.authorityKeyIdentifier,
    critical: opts.critical ?? false,
    value: der.seq(
      ...(issuerKey === undefined ? [] : [tlv(0x80, keyId(issuerKey))]),
      ...(opts.serial === true ? [tlv(0x82, Buffer.from([0x01]))] : []),
    ),
  }),
  /** Raw subjectAltName from already-encoded GeneralName TLVs. */
  san: (names: readonly Buffer[], critical = false): RawExtension => ({
    oid: OID.subjectAltName,
    critical,
    value: der.seq(...names),
  }),
  /** nameConstraints from GeneralName TLVs; `extra` are appended to each GeneralSubtree (minimum, maximum). */
  nameConstraints: (
    subtrees: { permitted?: readonly Buffer[]; excluded?: readonly Buffer[]; extra?: readonly Buffer[] },
    critical = true,
  ): RawExtension => {
    const wrap = (tag: number, bases: readonly Buffer[]) =>
      tlv(tag, ...bases.map((b) => der.seq(b, ...(subtrees.extra ?? []))));
    return {
      oid: OID.nameConstraints,
      critical,
      value: der.seq(
        ...(subtrees.permitted === undefined ? [] : [wrap(0xa0, subtrees.permitted)]),
        ...(subtrees.excluded === undefined ? [] : [wrap(0xa1, subtrees.excluded)]),
      ),
    };
  },
};

/** GeneralName TLVs. */
export const gn = {
  dns: (v: string) => tlv(0x82, Buffer.from(v, 'latin1')),
  email: (v: string) => tlv(0x81, Buffer.from(v, 'latin1')),
  uri: (v: string) => tlv(0x86, Buffer.from(v, 'latin1')),
  ip: (...bytes: number[]) => tlv(0x87, Buffer.from(bytes)),
  /** directoryName from an encoded Name. */
  dn: (name: Buffer) => tlv(0xa4, name),
  registeredId: () => tlv(0x88, der.oid('1.3.6.1.4.1.55555.9').subarray(2)),
  otherName: () => tlv(0xa0, der.oid('1.3.6.1.4.1.55555.8'), der.explicit(0, der.utf8('x'))),
};

/** A Name with one attribute per RDN, each value as given (utf8 or printable). */
export function rawName(...attrs: readonly [oid: string, value: string, printable?: boolean][]): Buffer {
  return der.seq(
    ...attrs.map(([oid, value, printable]) =>
      der.set(der.seq(der.oid(oid), printable === true ? der.printable(value) : der.utf8(value))),
    ),
  );
}
