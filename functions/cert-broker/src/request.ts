import * as z from 'zod';
import { MalformedRequestError, PayloadTooLargeError } from './errors.js';
import { CHAIN_PEM, CSR_PEM, PemFormatError, parseStrictPem, type StrictPemOptions } from './pem.js';

/** Largest accepted request body, in bytes (docs/architecture.md §4). */
export const MAX_BODY_BYTES = 16 * 1024;

/** RFC 3339 UTC timestamp with optional fractional seconds. */
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A string that is strict PEM (see pem.ts); the failing check travels in the issue's params. */
function strictPem(options: StrictPemOptions, message: string) {
  return z
    .string()
    .max(MAX_BODY_BYTES)
    .superRefine((text, ctx) => {
      try {
        parseStrictPem(text, options);
      } catch (error) {
        if (!(error instanceof PemFormatError)) throw error;
        ctx.addIssue({ code: 'custom', message, params: { check: error.check } });
      }
    });
}

/** The body of `POST /certificates`. Unknown fields are rejected. */
export const certificateRequestSchema = z.strictObject({
  csr: strictPem(CSR_PEM, 'must be exactly one PEM PKCS#10 certificate request'),
  attestation: z
    .strictObject({
      certificate: strictPem(CHAIN_PEM, 'must be PEM certificates only (leaf first, then intermediates)'),
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
  if (body === undefined || body === '')
    throw new MalformedRequestError('body', 'Request body is required', { check: 'body-missing' });
  const bytes = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    // The SyntaxError quotes the body; it is not kept (and so never logged).
    throw new MalformedRequestError('body', 'Request body is not valid JSON', { check: 'json' });
  }
  const parsed = certificateRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    const params = issue?.code === 'custom' ? (issue.params as { check?: unknown } | undefined) : undefined;
    const check = typeof params?.check === 'string' ? params.check : `schema-${issue?.code ?? 'invalid'}`;
    throw new MalformedRequestError(field, `Invalid request: ${field} ${issue?.message ?? 'is invalid'}`, {
      check,
    });
  }
  return parsed.data;
}
