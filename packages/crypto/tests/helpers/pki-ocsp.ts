/**
 * Hand-built OCSP responses (RFC 6960) for the cases a real responder will not produce:
 * forged, stale, wrong certificate, wrong signer, unsuccessful. Self-contained like pki.ts.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { der, encodeExtension, type Hash, signatureAlgorithm, type TestCert, tlv } from './pki.js';

const HASH_OIDS = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' } as const;
const NONCE_OID = '1.3.6.1.5.5.7.48.1.2';

/** SubjectPublicKey BIT STRING contents of a certificate's key (for issuerKeyHash and byKey). */
export function subjectPublicKeyBits(cert: TestCert): Buffer {
  // SPKI = SEQ { AlgId, BIT STRING }: skip the AlgId, then the BIT STRING header and unused-bits byte.
  const spki = cert.key.spki;
  let pos = spki[1] !== undefined && spki[1] & 0x80 ? 2 + (spki[1] & 0x7f) : 2;
  const algLen = spki[pos + 1] ?? 0;
  pos += 2 + algLen;
  const lenByte = spki[pos + 1] ?? 0;
  const header = lenByte & 0x80 ? 2 + (lenByte & 0x7f) : 2;
  return spki.subarray(pos + header + 1);
}

export interface SingleSpec {
  /** Certificate answered for (its serial), issued by `issuer`. */
  readonly cert: TestCert;
  readonly issuer: TestCert;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt?: Date;
  /** CRLReason code. */
  readonly reason?: number;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly hash?: 'sha1' | 'sha256';
  /** Override the serial (content bytes) for wrong-certificate cases. */
  readonly serial?: Buffer;
}

export function certId(spec: {
  cert: TestCert;
  issuer: TestCert;
  hash?: 'sha1' | 'sha256';
  serial?: Buffer;
}): Buffer {
  const hash = spec.hash ?? 'sha256';
  return der.seq(
    der.seq(der.oid(HASH_OIDS[hash]), der.null()),
    der.octets(createHash(hash).update(spec.issuer.subjectDer).digest()),
    der.octets(createHash(hash).update(subjectPublicKeyBits(spec.issuer)).digest()),
    tlv(0x02, spec.serial ?? spec.cert.serial),
  );
}

function single(s: SingleSpec): Buffer {
  const status =
    s.status === 'good'
      ? tlv(0x80)
      : s.status === 'unknown'
        ? tlv(0x82)
        : tlv(
            0xa1,
            der.generalizedTime(s.revokedAt ?? s.thisUpdate),
            ...(s.reason !== undefined ? [der.explicit(0, der.enumerated(s.reason))] : []),
          );
  return der.seq(
    certId(s),
    status,
    der.generalizedTime(s.thisUpdate),
    ...(s.nextUpdate !== undefined ? [der.explicit(0, der.generalizedTime(s.nextUpdate))] : []),
  );
}

export interface ResponseSpec {
  readonly responses: readonly SingleSpec[];
  /** Key that signs the response. */
  readonly signerKey: KeyObject;
  /** Certificate named in ResponderID (default: the first response's issuer). */
  readonly responder?: TestCert;
  readonly responderIdBy?: 'name' | 'key';
  /** Certificates to embed (delegated responder). */
  readonly certs?: readonly TestCert[];
  /** Echoed nonce (the raw nonce octets). */
  readonly nonce?: Buffer;
  readonly producedAt?: Date;
  readonly hash?: Hash;
  /** Change the signed bytes after signing (forgery). */
  readonly tamper?: (tbs: Buffer) => Buffer;
}

export function buildBasicResponse(spec: ResponseSpec): Buffer {
  const responder = spec.responder ?? spec.responses[0]?.issuer;
  if (responder === undefined) throw new Error('no responder');
  const rid =
    spec.responderIdBy === 'key'
      ? tlv(0xa2, der.octets(createHash('sha1').update(subjectPublicKeyBits(responder)).digest()))
      : tlv(0xa1, responder.subjectDer);
  const extensions =
    spec.nonce === undefined
      ? []
      : [
          der.explicit(
            1,
            der.seq(encodeExtension({ oid: NONCE_OID, critical: false, value: der.octets(spec.nonce) })),
          ),
        ];
  const tbs = der.seq(
    rid,
    der.generalizedTime(spec.producedAt ?? new Date()),
    der.seq(...spec.responses.map(single)),
    ...extensions,
  );
  const sig = signatureAlgorithm(spec.signerKey, spec.hash ?? 'sha256');
  const signature = sig.sign(tbs);
  const signedTbs = spec.tamper === undefined ? tbs : spec.tamper(tbs);
  const certs =
    spec.certs === undefined || spec.certs.length === 0
      ? []
      : [der.explicit(0, der.seq(...spec.certs.map((c) => c.der)))];
  return der.seq(signedTbs, sig.algId, der.bits(signature), ...certs);
}

/** Full OCSPResponse: status 0 with the basic response, or a bare non-successful status. */
export function buildOcspResponse(spec: ResponseSpec | { readonly status: number }): Buffer {
  if ('status' in spec) return der.seq(der.enumerated(spec.status));
  const basic = buildBasicResponse(spec);
  return der.seq(
    der.enumerated(0),
    der.explicit(0, der.seq(der.oid('1.3.6.1.5.5.7.48.1.1'), der.octets(basic))),
  );
}
