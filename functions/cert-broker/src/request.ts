import { z } from 'zod';
import { MalformedRequestError, PayloadTooLargeError } from './errors.js';

/** Largest accepted request body, in bytes (SPEC 4). */
export const MAX_BODY_BYTES = 16 * 1024;

const PEM_CERTIFICATE = /^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;
const PEM_CSR =
  /^\s*-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (NEW )?CERTIFICATE REQUEST-----\s*$/;
/** RFC 3339 UTC timestamp with optional fractional seconds. */
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The body of `POST /certificates`. Unknown fields are rejected. */
export const certificateRequestSchema = z.strictObject({
  csr: z.string().max(MAX_BODY_BYTES).regex(PEM_CSR, 'must be a PEM PKCS#10 certificate request'),
  attestation: z
    .strictObject({
      certificate: z
        .string()
        .max(MAX_BODY_BYTES)
        .regex(PEM_CERTIFICATE, 'must be PEM certificates (leaf first, then intermediates)'),
      signedAt: z
        .string()
        .regex(RFC3339_UTC, 'must be an RFC 3339 UTC timestamp')
        .refine((s) => !Number.isNaN(Date.parse(s)), 'must be a valid date'),
      signature: z.string().max(2048).regex(BASE64, 'must be base64'),
    })
    .optional(),
});

export type CertificateRequest = z.infer<typeof certificateRequestSchema>;

/**
 * Parses the raw HTTP body at the edge: size limit (413), JSON (400), schema (400).
 * @example const request = parseCertificateRequest(event.body, event.isBase64Encoded);
 */
export function parseCertificateRequest(
  body: string | undefined,
  isBase64Encoded = false,
): CertificateRequest {
  if (body === undefined || body === '') throw new MalformedRequestError('body', 'Request body is required');
  const bytes = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    // The SyntaxError quotes the body; it is not kept (and so never logged).
    throw new MalformedRequestError('body', 'Request body is not valid JSON');
  }
  const parsed = certificateRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    throw new MalformedRequestError(field, `Invalid request: ${field} ${issue?.message ?? 'is invalid'}`);
  }
  return parsed.data;
}
