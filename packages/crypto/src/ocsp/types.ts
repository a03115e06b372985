import type { Certificate } from '../x509/types.js';

/** CertID hash algorithms we build requests with (responses may use SHA-384/512 too). */
export type OcspHashAlgorithm = 'sha1' | 'sha256';

/** RFC 6960 CertID. */
export interface CertId {
  readonly hashAlgorithm: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  readonly issuerNameHash: Buffer;
  readonly issuerKeyHash: Buffer;
  /** DER INTEGER content bytes of the serial. */
  readonly serialNumber: Buffer;
}

/** A built request. */
export interface OcspRequest {
  readonly der: Buffer;
  readonly certId: CertId;
  /** The nonce sent (the octets inside the nonce extension's OCTET STRING), if any. */
  readonly nonce: Buffer | undefined;
}

/** CRLReason names (RFC 5280 5.3.1). */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

/** The verified answer for one certificate. */
export type OcspResult =
  | { readonly status: 'good'; readonly thisUpdate: Date; readonly nextUpdate: Date | undefined }
  | {
      readonly status: 'revoked';
      readonly revokedAt: Date;
      readonly reason: RevocationReason | undefined;
      readonly thisUpdate: Date;
      readonly nextUpdate: Date | undefined;
    }
  | { readonly status: 'unknown'; readonly thisUpdate: Date; readonly nextUpdate: Date | undefined };

/** One SingleResponse, unverified. */
export interface OcspSingleResponse {
  readonly certId:
    | CertId
    | {
        readonly hashAlgorithm: string;
        readonly issuerNameHash: Buffer;
        readonly issuerKeyHash: Buffer;
        readonly serialNumber: Buffer;
      };
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt: Date | undefined;
  readonly revocationReason: RevocationReason | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

/** A successful BasicOCSPResponse, parsed but not verified. */
export interface ParsedOcspResponse {
  /** DER of tbsResponseData (what the signature covers). */
  readonly tbsResponseData: Buffer;
  readonly signatureAlgorithmOid: string;
  /** DER of the signatureAlgorithm AlgorithmIdentifier (parameters matter for RSASSA-PSS). */
  readonly signatureAlgorithmDer: Buffer;
  readonly signature: Buffer;
  readonly responderId: { readonly byName: Buffer } | { readonly byKey: Buffer };
  readonly producedAt: Date;
  readonly responses: readonly OcspSingleResponse[];
  /** The nonce extension's extnValue contents, if present. */
  readonly nonceExtension: Buffer | undefined;
  /** Certificates carried in the response (candidate delegated responders). */
  readonly certs: readonly Certificate[];
}

/** Options of `verifyOcspResponse`. */
export interface VerifyOcspResponseOptions {
  readonly cert: Certificate;
  readonly issuer: Certificate;
  /** The nonce sent; when set, the response must echo it. */
  readonly nonce?: Uint8Array | undefined;
  /** Default `new Date()`. */
  readonly now?: Date;
  /** Default 300. */
  readonly clockSkewSeconds?: number;
  /** Oldest acceptable thisUpdate when nextUpdate is absent. Default 3600. */
  readonly maxAgeSeconds?: number;
}

/** One HTTP exchange with a responder. Implementations must honour `signal`, `timeoutMs` and `maxResponseBytes`. */
export type OcspTransport = (request: {
  readonly url: URL;
  readonly body: Uint8Array;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly signal: AbortSignal;
}) => Promise<Uint8Array>;

/** Options of the default node:http transport. */
export interface HttpTransportOptions {
  /** Extra request headers (e.g. a User-Agent). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Options of `checkOcsp`. */
export interface CheckOcspOptions {
  readonly cert: Certificate;
  readonly issuer: Certificate;
  /** Responder URL; default: the first AIA OCSP URL of `cert`. */
  readonly url?: string;
  /** Hostnames the URL may point at (checked before any request). */
  readonly allowedHosts: readonly string[];
  readonly transport: OcspTransport;
  /** Default 5000. */
  readonly timeoutMs?: number;
  /** Default 65536. */
  readonly maxResponseBytes?: number;
  /** CertID hash. Default 'sha256'. */
  readonly hashAlgorithm?: OcspHashAlgorithm;
  /** Send a nonce and require its echo. Default false (many responders serve cached responses). */
  readonly nonce?: boolean;
  readonly now?: Date;
  readonly clockSkewSeconds?: number;
  readonly maxAgeSeconds?: number;
}
