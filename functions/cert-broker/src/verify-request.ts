/**
 * Every check of docs/architecture.md §4 (and issue 12 items 7 and 8) before anything is issued: strict PEM, the
 * CSR, the attestation chain, proof of possession, the attested identity, the registry row and
 * its supplier binding. Pure apart from reading the trust bundle and the registry.
 */
import { createHash } from 'node:crypto';
import { AttestationError, verifyAttestationProof } from '@cv/crypto/attestation';
import {
  assertAllowedKey,
  type Certificate,
  CertificateParseError,
  type CertificationRequest,
  ChainValidationError,
  CsrSignatureError,
  KeyPolicyError,
  loadTrustStore,
  parseCertificate,
  parseCsr,
  validateChain,
  verifyCsrSignature,
} from '@cv/crypto/x509';
import {
  AttestationNotTrustedError,
  IssuanceNotAllowedError,
  MalformedRequestError,
  MissingProofOfPossessionError,
} from './errors.js';
import { ECU_ID_PATTERN, VIN_PATTERN } from './identity.js';
import { CHAIN_PEM, CSR_PEM, PemFormatError, parseStrictPem, type StrictPemOptions } from './pem.js';
import type { EcuRecord, EcuRegistry, TrustBundleSource } from './ports.js';
import { proofIdOf } from './proof.js';

export interface IssueCertificateInput {
  /** PEM PKCS#10 request: exactly one block. */
  readonly csrPem: string;
  /** The attestation from the body: PEM (leaf first, then optional intermediates) and the signed proof. */
  readonly attestation?:
    | { readonly certificatePem: string; readonly signedAt: string; readonly signature: string }
    | undefined;
  /** The mutual-TLS client certificate API Gateway verified (`requestContext.authentication.clientCert.clientCertPem`). */
  readonly clientCertPem?: string | undefined;
}

export interface VerifyDeps {
  readonly registry: EcuRegistry;
  readonly trustBundle: TrustBundleSource;
}

/** A request that passed every check: who it is for, and the proof it used. */
export interface VerifiedRequest {
  readonly csr: CertificationRequest;
  readonly ecu: EcuRecord & { readonly attestationIssuerKeySha256: string };
  readonly ecuId: string;
  /** Lowercase hex SHA-256 of the SPKI of the CA that issued the attestation certificate. */
  readonly issuerKeySha256: string;
  readonly proofKind: 'signature' | 'mtls';
  /** The replay ledger key of this proof. */
  readonly proofId: string;
  /** When the signed proof says it was made (signature proofs), epoch ms. */
  readonly signedAtMs: number | undefined;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Lowercase hex SHA-256 of a certificate's SubjectPublicKeyInfo DER: the supplier binding's form. */
export function issuerKeySha256Of(ca: Certificate): string {
  return createHash('sha256').update(ca.spki).digest('hex');
}

function strictPem(text: string, options: StrictPemOptions, field: string): Buffer[] {
  try {
    return parseStrictPem(text, options);
  } catch (cause) {
    if (cause instanceof PemFormatError) {
      throw new MalformedRequestError(field, `Invalid request: ${field} is not strict PEM`, {
        cause,
        check: cause.check,
      });
    }
    throw cause;
  }
}

function parseChain(pem: string, field: string): [Certificate, ...Certificate[]] {
  const ders = strictPem(pem, CHAIN_PEM, field);
  try {
    const certificates = ders.map((der) => parseCertificate(der));
    const [leaf, ...rest] = certificates;
    if (leaf === undefined) throw new CertificateParseError('pem', 'no certificate');
    return [leaf, ...rest];
  } catch (cause) {
    if (cause instanceof CertificateParseError) {
      throw new MalformedRequestError(field, `Invalid request: ${field} is not a valid certificate`, {
        cause,
        check: 'certificate-der',
      });
    }
    throw cause;
  }
}

function parseAndCheckCsr(pem: string): CertificationRequest {
  const [der] = strictPem(pem, CSR_PEM, 'csr');
  let csr: CertificationRequest;
  try {
    csr = parseCsr(der ?? Buffer.alloc(0));
    verifyCsrSignature(csr);
  } catch (cause) {
    if (cause instanceof CertificateParseError) {
      throw new MalformedRequestError('csr', 'Invalid request: csr is not a valid PKCS#10 request', {
        cause,
        check: 'csr-der',
      });
    }
    if (cause instanceof CsrSignatureError) {
      throw new MalformedRequestError('csr', 'Invalid request: the CSR signature does not verify', {
        cause,
        check: 'csr-signature',
      });
    }
    throw cause;
  }
  try {
    assertAllowedKey(csr.keyInfo);
  } catch (cause) {
    if (cause instanceof KeyPolicyError)
      throw new IssuanceNotAllowedError('key-type', cause.message, { cause });
    throw cause;
  }
  return csr;
}

/**
 * Runs every check; throws a `BrokerError` subclass (nothing issued) or returns the verified request.
 *
 * @example
 * const verified = await verifyRequest({ csrPem, clientCertPem }, deps, new Date());
 */
export async function verifyRequest(
  input: IssueCertificateInput,
  deps: VerifyDeps,
  now: Date,
): Promise<VerifiedRequest> {
  // 1. Proof of possession of the attestation key must be offered at all.
  if (input.clientCertPem === undefined && input.attestation === undefined) {
    throw new MissingProofOfPossessionError();
  }

  // 2. The CSR: exactly one PEM block, well-formed, self-signed by its key, allowed key type.
  const csr = parseAndCheckCsr(input.csrPem);

  // 3. The attestation certificate: from mutual TLS, or from the body.
  let leaf: Certificate;
  let intermediates: Certificate[];
  if (input.clientCertPem !== undefined) {
    const [tlsLeaf, ...tlsRest] = parseChain(input.clientCertPem, 'clientCert');
    leaf = tlsLeaf;
    intermediates = tlsRest;
    if (input.attestation !== undefined) {
      const [bodyLeaf, ...bodyRest] = parseChain(input.attestation.certificatePem, 'attestation.certificate');
      if (!bodyLeaf.der.equals(tlsLeaf.der)) {
        throw new AttestationNotTrustedError(
          'client-certificate-mismatch',
          'attestation.certificate differs from the TLS client certificate',
        );
      }
      intermediates = [...tlsRest, ...bodyRest];
    }
  } else if (input.attestation !== undefined) {
    [leaf, ...intermediates] = parseChain(input.attestation.certificatePem, 'attestation.certificate');
  } else {
    throw new MissingProofOfPossessionError();
  }

  // 4. The chain to a trusted manufacturer CA (dates, basicConstraints, keyUsage, path length, leaf not a CA).
  const trust = loadTrustStore(await deps.trustBundle.get());
  let issuer: Certificate;
  try {
    const chain = validateChain({ leaf, intermediates, trust, now, leafKeyUsage: ['digitalSignature'] });
    // The CA whose key verified the leaf's signature: the next certificate up, or the anchor itself.
    issuer = chain.path[1] ?? chain.anchor;
  } catch (cause) {
    if (cause instanceof ChainValidationError) {
      throw new AttestationNotTrustedError('chain', `${cause.reason} at depth ${cause.depth}`, { cause });
    }
    throw cause;
  }

  // 5. Proof of possession by signature (always verified when present, even with mutual TLS).
  let signedAtMs: number | undefined;
  if (input.attestation !== undefined) {
    try {
      verifyAttestationProof({
        publicKey: leaf.publicKey,
        csrDer: csr.der,
        proof: { signedAt: input.attestation.signedAt, signature: input.attestation.signature },
        now,
      });
    } catch (cause) {
      if (cause instanceof AttestationError) {
        const freshness =
          cause.reason === 'stale' || cause.reason === 'future' || cause.reason === 'malformed-timestamp';
        throw new AttestationNotTrustedError(freshness ? 'freshness' : 'signature', cause.reason, { cause });
      }
      throw cause;
    }
    signedAtMs = Date.parse(input.attestation.signedAt);
  }

  // 6. The operational key must be a new key, not the attestation key.
  if (csr.spki.equals(leaf.spki)) {
    throw new IssuanceNotAllowedError('key-reuse', 'the CSR key is the attestation key');
  }

  // 7. The attested identity and the registry.
  const ecuId = leaf.subjectCN;
  if (ecuId === undefined || !ECU_ID_PATTERN.test(ecuId)) {
    throw new AttestationNotTrustedError('identity', 'the attestation certificate CN is not an ECU id');
  }
  const ecu = await deps.registry.get(ecuId);
  if (ecu === undefined) throw new IssuanceNotAllowedError('ecu-unknown', `ECU ${ecuId} is not registered`);
  if (ecu.status !== 'ACTIVE') {
    throw new IssuanceNotAllowedError('ecu-not-active', `ECU ${ecuId} has status ${ecu.status}`);
  }
  if (!VIN_PATTERN.test(ecu.vin)) {
    throw new IssuanceNotAllowedError(
      'registry-inconsistent',
      `ECU ${ecuId} has no valid VIN in the registry`,
    );
  }

  // 8. Supplier binding: only the attestation issuer the registry names may enrol this ECU.
  const bound = ecu.attestationIssuerKeySha256;
  if (bound === undefined || !SHA256_HEX.test(bound)) {
    throw new IssuanceNotAllowedError('supplier-unbound', `ECU ${ecuId} has no attestation issuer binding`);
  }
  const issuerKeySha256 = issuerKeySha256Of(issuer);
  if (bound.toLowerCase() !== issuerKeySha256) {
    throw new IssuanceNotAllowedError(
      'supplier-mismatch',
      `ECU ${ecuId} is bound to issuer key ${bound.toLowerCase().slice(0, 16)}…, the attestation chains to ${issuerKeySha256.slice(0, 16)}…`,
    );
  }

  const proofKind = input.attestation !== undefined ? 'signature' : 'mtls';
  return {
    csr,
    ecu: { ...ecu, attestationIssuerKeySha256: bound },
    ecuId,
    issuerKeySha256,
    proofKind,
    proofId: proofIdOf({
      kind: proofKind,
      attestationSpki: leaf.spki,
      csrDer: csr.der,
      signedAt: input.attestation?.signedAt,
    }),
    signedAtMs,
  };
}
