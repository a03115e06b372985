/** @internal OCSP response verification. */
import { createHash, type KeyObject } from 'node:crypto';
import { type InternalCertificate, internal } from '../x509/certificate.js';
import { encOctetString, readRoot } from '../x509/der.js';
import { OIDS } from '../x509/oids.js';
import { verifySigned } from '../x509/signature.js';
import { OcspResponseError } from './errors.js';
import { certIdWith } from './request.js';
import type {
  CertId,
  OcspResult,
  OcspSingleResponse,
  ParsedOcspResponse,
  VerifyOcspResponseOptions,
} from './types.js';

function matchesResponderId(response: ParsedOcspResponse, cert: InternalCertificate): boolean {
  const rid = response.responderId;
  if ('byName' in rid) return rid.byName.equals(cert.subjectDer);
  return rid.byKey.equals(createHash('sha1').update(cert.subjectPublicKey).digest());
}

function keyOf(cert: InternalCertificate): KeyObject | undefined {
  try {
    return cert.publicKey;
  } catch {
    return undefined;
  }
}

/** The key that must have signed the response: the issuer's, or an authorized delegate's. */
function signerKey(
  response: ParsedOcspResponse,
  issuer: InternalCertificate,
  nowMs: number,
  skewMs: number,
): KeyObject {
  if (matchesResponderId(response, issuer)) {
    const key = keyOf(issuer);
    if (key === undefined) throw new OcspResponseError('wrong-signer', 'the issuer key is unusable');
    return key;
  }
  const delegate = response.certs.map(internal).find((c) => matchesResponderId(response, c));
  if (delegate === undefined) {
    throw new OcspResponseError(
      'wrong-signer',
      'the responder is neither the issuer nor a certificate in the response',
    );
  }
  // Delegated responder (RFC 6960 4.2.2.2): issued by the issuer, id-kp-OCSPSigning, valid now.
  if (!delegate.issuerDer.equals(issuer.subjectDer)) {
    throw new OcspResponseError(
      'wrong-signer',
      'the responder certificate is not issued by the certificate issuer',
    );
  }
  const issuerKey = keyOf(issuer);
  if (
    issuerKey === undefined ||
    !delegate.algorithmsMatch ||
    verifySigned(delegate.signatureAlgorithm, delegate.tbs, delegate.signature, issuerKey) !== 'ok'
  ) {
    throw new OcspResponseError('wrong-signer', 'the responder certificate is not signed by the issuer');
  }
  if (!(delegate.extKeyUsage ?? []).includes(OIDS.ekuOcspSigning)) {
    throw new OcspResponseError('wrong-signer', 'the responder certificate lacks id-kp-OCSPSigning');
  }
  if (delegate.keyUsage !== undefined && !delegate.keyUsage.has('digitalSignature')) {
    throw new OcspResponseError('wrong-signer', 'the responder certificate lacks keyUsage digitalSignature');
  }
  if (nowMs + skewMs < delegate.notBefore.getTime() || nowMs - skewMs > delegate.notAfter.getTime()) {
    throw new OcspResponseError('wrong-signer', 'the responder certificate is outside its validity period');
  }
  const key = keyOf(delegate);
  if (key === undefined) throw new OcspResponseError('wrong-signer', 'the responder key is unusable');
  return key;
}

function sameCertId(single: OcspSingleResponse['certId'], expected: CertId): boolean {
  return (
    single.hashAlgorithm === expected.hashAlgorithm &&
    single.issuerNameHash.equals(expected.issuerNameHash) &&
    single.issuerKeyHash.equals(expected.issuerKeyHash) &&
    single.serialNumber.equals(expected.serialNumber)
  );
}

const SUPPORTED_HASHES = new Set(['sha1', 'sha256', 'sha384', 'sha512']);
const PRECEDENCE = { revoked: 2, unknown: 1, good: 0 } as const;

export function verifyOcspResponseImpl(
  response: ParsedOcspResponse,
  options: VerifyOcspResponseOptions,
): OcspResult {
  const nowMs = (options.now ?? new Date()).getTime();
  const skewMs = (options.clockSkewSeconds ?? 300) * 1000;
  const maxAgeMs = (options.maxAgeSeconds ?? 3600) * 1000;
  const cert = internal(options.cert);
  const issuer = internal(options.issuer);
  if (!cert.issuerDer.equals(issuer.subjectDer)) {
    throw new OcspResponseError('wrong-certificate', 'the given issuer did not issue this certificate');
  }

  // 1. Signature, by the issuer or an authorized delegate.
  const key = signerKey(response, issuer, nowMs, skewMs);
  const outcome = verifySigned(
    readRoot(response.signatureAlgorithmDer),
    response.tbsResponseData,
    response.signature,
    key,
  );
  if (outcome === 'unsupported') {
    throw new OcspResponseError(
      'unsupported-algorithm',
      `unsupported signature algorithm ${response.signatureAlgorithmOid}`,
    );
  }
  if (outcome !== 'ok')
    throw new OcspResponseError('bad-signature', 'the OCSP response signature does not verify');

  // 2. Nonce echoed when sent.
  if (options.nonce !== undefined) {
    const expected = encOctetString(options.nonce);
    if (response.nonceExtension === undefined || !response.nonceExtension.equals(expected)) {
      throw new OcspResponseError('nonce-mismatch', 'the response does not echo our nonce');
    }
  }

  // 3. The SingleResponse(s) for this certificate.
  const ids = new Map<string, CertId>();
  const matching = response.responses.filter((single) => {
    const alg = single.certId.hashAlgorithm;
    if (!SUPPORTED_HASHES.has(alg)) return false;
    let expected = ids.get(alg);
    if (expected === undefined) {
      expected = certIdWith(cert, issuer, alg as CertId['hashAlgorithm']);
      ids.set(alg, expected);
    }
    return sameCertId(single.certId, expected);
  });
  if (matching.length === 0)
    throw new OcspResponseError('wrong-certificate', 'the response does not answer for this certificate');

  // 4. Freshness of each matching answer.
  for (const single of matching) {
    if (single.thisUpdate.getTime() > nowMs + skewMs) {
      throw new OcspResponseError('not-yet-valid', 'thisUpdate is in the future');
    }
    if (single.nextUpdate !== undefined) {
      if (single.nextUpdate.getTime() < single.thisUpdate.getTime())
        throw new OcspResponseError('malformed', 'nextUpdate precedes thisUpdate');
      if (single.nextUpdate.getTime() < nowMs - skewMs)
        throw new OcspResponseError('stale', 'nextUpdate has passed');
    } else if (single.thisUpdate.getTime() < nowMs - skewMs - maxAgeMs) {
      throw new OcspResponseError('stale', 'thisUpdate is too old and there is no nextUpdate');
    }
  }

  // 5. The most severe matching answer wins.
  const answer = matching.reduce((a, b) => (PRECEDENCE[b.status] > PRECEDENCE[a.status] ? b : a));
  if (answer.status === 'revoked') {
    return {
      status: 'revoked',
      revokedAt: answer.revokedAt ?? answer.thisUpdate,
      reason: answer.revocationReason,
      thisUpdate: answer.thisUpdate,
      nextUpdate: answer.nextUpdate,
    };
  }
  return { status: answer.status, thisUpdate: answer.thisUpdate, nextUpdate: answer.nextUpdate };
}
