/** @internal OCSP request building. */
import { createHash, randomBytes } from 'node:crypto';
import { internal } from '../x509/certificate.js';
import { encExplicit, encIntegerContent, encNull, encOctetString, encOid, encSequence } from '../x509/der.js';
import { OIDS } from '../x509/oids.js';
import type { Certificate } from '../x509/types.js';
import type { CertId, OcspHashAlgorithm, OcspRequest } from './types.js';

export const HASH_OIDS: Readonly<Record<CertId['hashAlgorithm'], string>> = {
  sha1: OIDS.sha1,
  sha256: OIDS.sha256,
  sha384: OIDS.sha384,
  sha512: OIDS.sha512,
};

export function certIdWith(
  cert: Certificate,
  issuer: Certificate,
  hashAlgorithm: CertId['hashAlgorithm'],
): CertId {
  const c = internal(cert);
  const i = internal(issuer);
  return {
    hashAlgorithm,
    issuerNameHash: createHash(hashAlgorithm).update(i.subjectDer).digest(),
    issuerKeyHash: createHash(hashAlgorithm).update(i.subjectPublicKey).digest(),
    serialNumber: Buffer.from(c.serialNumberBytes),
  };
}

export function certIdForImpl(
  cert: Certificate,
  issuer: Certificate,
  hashAlgorithm: OcspHashAlgorithm,
): CertId {
  return certIdWith(cert, issuer, hashAlgorithm);
}

export function encodeCertId(id: CertId): Buffer {
  return encSequence(
    encSequence(encOid(HASH_OIDS[id.hashAlgorithm]), encNull()),
    encOctetString(id.issuerNameHash),
    encOctetString(id.issuerKeyHash),
    encIntegerContent(id.serialNumber),
  );
}

export function buildOcspRequestImpl(
  cert: Certificate,
  issuer: Certificate,
  options?: { hashAlgorithm?: OcspHashAlgorithm; nonce?: boolean | Uint8Array },
): OcspRequest {
  const certId = certIdWith(cert, issuer, options?.hashAlgorithm ?? 'sha256');
  const nonceOption = options?.nonce ?? false;
  const nonce =
    nonceOption === false ? undefined : nonceOption === true ? randomBytes(32) : Buffer.from(nonceOption);
  const requestList = encSequence(encSequence(encodeCertId(certId)));
  const extensions =
    nonce === undefined
      ? []
      : [
          encExplicit(
            2,
            encSequence(encSequence(encOid(OIDS.ocspNonce), encOctetString(encOctetString(nonce)))),
          ),
        ];
  const der = encSequence(encSequence(requestList, ...extensions));
  return { der, certId, nonce };
}
