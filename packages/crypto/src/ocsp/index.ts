/**
 * OCSP client (RFC 6960): request building, a bounded HTTP transport, a host allowlist, and
 * response parsing and verification (signer authority, CertID match, nonce, freshness).
 *
 * Choices where RFC 6960 leaves room:
 * - Signer: the issuer itself, or a delegated responder certificate carried in the response that is
 *   issued by the issuer (name and signature), lists id-kp-OCSPSigning, has digitalSignature when it
 *   has keyUsage, and is valid now (within skew). The responder certificate's own revocation is not
 *   checked (as with id-pkix-ocsp-nocheck). SHA-1 and MD5 response signatures are refused.
 * - The answer is the SingleResponse(s) whose CertID (hash algorithm, issuer name and key hashes,
 *   serial) equals this certificate's; when several match, the most severe status wins
 *   (revoked over unknown over good). All matching ones must be fresh.
 * - Nonces are off by default: many responders (AWS Private CA among them) serve pre-signed
 *   responses without them. When one is sent, its exact echo is required.
 * - Transport failures (`timeout`, `too-large`, `http-status`, `network`, `no-responder-url`) are
 *   `OcspTransportError`; bad answers are `OcspResponseError`; both extend `OcspError`. Redirects are
 *   never followed. Callers fail closed on any `OcspError` and on `unknown`.
 * @module
 */
import type { Certificate } from '../x509/types.js';
import { checkOcspImpl } from './client.js';
import { assertAllowedHostImpl } from './hosts.js';
import { buildOcspRequestImpl, certIdForImpl } from './request.js';
import { parseOcspResponseImpl } from './response.js';
import { createHttpTransportImpl } from './transport.js';
import type {
  CertId,
  CheckOcspOptions,
  HttpTransportOptions,
  OcspHashAlgorithm,
  OcspRequest,
  OcspResult,
  OcspTransport,
  ParsedOcspResponse,
  VerifyOcspResponseOptions,
} from './types.js';
import { verifyOcspResponseImpl } from './verify.js';

export * from './errors.js';
export type * from './types.js';

/** Defaults used when options are omitted. */
export const OCSP_DEFAULTS = {
  timeoutMs: 5_000,
  maxResponseBytes: 64 * 1024,
  clockSkewSeconds: 300,
  /** Oldest acceptable thisUpdate when the response has no nextUpdate. */
  maxAgeSeconds: 3_600,
  hashAlgorithm: 'sha256',
} as const;

/**
 * Throws `OcspHostNotAllowedError` unless `url` is http(s) and its hostname is in `allowedHosts`
 * (exact, case-insensitive; no wildcards). Call before any request. Returns the parsed URL.
 *
 * @example
 * const url = assertAllowedHost(cert.ocspUrls[0] ?? fallback, ['ocsp.example.com']);
 */
export function assertAllowedHost(url: string, allowedHosts: readonly string[]): URL {
  return assertAllowedHostImpl(url, allowedHosts);
}

/**
 * The CertID of `cert` as issued by `issuer` (hash of the issuer's name and key, and the serial).
 *
 * @example
 * const id = certIdFor(cert, issuer, 'sha1');
 */
export function certIdFor(
  cert: Certificate,
  issuer: Certificate,
  hashAlgorithm: OcspHashAlgorithm = 'sha256',
): CertId {
  return certIdForImpl(cert, issuer, hashAlgorithm);
}

/**
 * DER OCSPRequest for one certificate, with a fresh 32-byte nonce when `nonce` is true
 * (or the given bytes).
 *
 * @example
 * const req = buildOcspRequest(cert, issuer, { hashAlgorithm: 'sha1', nonce: true });
 * await transport({ url, body: req.der, timeoutMs: 5000, maxResponseBytes: 65536, signal });
 */
export function buildOcspRequest(
  cert: Certificate,
  issuer: Certificate,
  options?: { readonly hashAlgorithm?: OcspHashAlgorithm; readonly nonce?: boolean | Uint8Array },
): OcspRequest {
  return buildOcspRequestImpl(cert, issuer, options);
}

/**
 * Parses a DER OCSPResponse. Throws `OcspResponseError`: `malformed` for bad DER or a non-basic
 * response type, `unsuccessful` (with `responseStatus`) for a non-successful status. Does not verify.
 *
 * @example
 * const parsed = parseOcspResponse(bytes);
 */
export function parseOcspResponse(der: Uint8Array): ParsedOcspResponse {
  return parseOcspResponseImpl(der);
}

/**
 * Verifies a parsed response for `cert`: the signature by the issuer or by a delegated responder
 * certificate (id-kp-OCSPSigning, signed by the issuer, valid now); the SingleResponse whose CertID
 * matches `cert`; the nonce when one was sent; thisUpdate/nextUpdate freshness within skew (and
 * `maxAgeSeconds` when nextUpdate is absent). Throws `OcspResponseError`.
 *
 * @example
 * const result = verifyOcspResponse(parseOcspResponse(bytes), { cert, issuer, nonce: req.nonce, now });
 */
export function verifyOcspResponse(
  response: ParsedOcspResponse,
  options: VerifyOcspResponseOptions,
): OcspResult {
  return verifyOcspResponseImpl(response, options);
}

/**
 * The default transport: HTTP(S) POST with node:http/https, a total timeout, a response size cap,
 * no redirects, and `application/ocsp-request`. Rejects with `OcspTransportError`.
 *
 * @example
 * const transport = createHttpTransport();
 */
export function createHttpTransport(options?: HttpTransportOptions): OcspTransport {
  return createHttpTransportImpl(options);
}

/**
 * The whole check: picks the responder URL (`url` or the certificate's AIA OCSP URL), checks it
 * against `allowedHosts` before any request, builds the request, POSTs it through `transport` with
 * a timeout and a size cap, then parses and verifies the answer.
 * Resolves `{ status: 'good' | 'revoked' | 'unknown' }`; rejects with an `OcspError` subclass.
 * Callers fail closed on `unknown` and on any rejection.
 *
 * @example
 * const result = await checkOcsp({ cert, issuer, allowedHosts: ['ocsp.example.com'], transport: createHttpTransport() });
 * if (result.status === 'revoked') await revoke(result.revokedAt);
 */
export function checkOcsp(options: CheckOcspOptions): Promise<OcspResult> {
  return checkOcspImpl(options);
}
