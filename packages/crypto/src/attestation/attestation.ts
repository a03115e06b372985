/** @internal Attestation proof creation and verification. */
import { constants, createHash, type KeyObject, sign, verify } from 'node:crypto';
import { AttestationError } from './errors.js';

const CONTEXT = 'cv-cert-broker/v1';
const PSS_SALT_LENGTH = 32;
const DEFAULT_SKEW_SECONDS = 300;
/** RFC 3339 UTC: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, uppercase T and Z only. */
const RFC3339_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function attestationMessageImpl(signedAt: string, csrDer: Uint8Array): Buffer {
  const digest = createHash('sha256').update(csrDer).digest('base64url');
  return Buffer.from(`${CONTEXT}\n${signedAt}\n${digest}`, 'utf8');
}

/** Milliseconds since the epoch, or undefined when `text` is not a valid RFC 3339 UTC timestamp. */
export function parseRfc3339Utc(text: string): number | undefined {
  if (typeof text !== 'string' || text.length > 40) return undefined;
  const m = RFC3339_UTC.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(
    y,
    mo - 1,
    d,
    h,
    mi,
    s,
    m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000),
  );
  const date = new Date(ms);
  if (
    Number.isNaN(ms) ||
    date.getUTCFullYear() !== y ||
    date.getUTCMonth() !== mo - 1 ||
    date.getUTCDate() !== d ||
    date.getUTCHours() !== h ||
    date.getUTCMinutes() !== mi ||
    date.getUTCSeconds() !== s
  ) {
    return undefined;
  }
  return ms;
}

function schemeFor(key: KeyObject): 'ecdsa' | 'pss' {
  const type = key.asymmetricKeyType;
  if (type === 'ec') return 'ecdsa';
  if (type === 'rsa' || type === 'rsa-pss') return 'pss';
  throw new AttestationError(
    'unsupported-key',
    `attestation keys must be EC or RSA, not ${type ?? 'symmetric'}`,
  );
}

export function createAttestationImpl(options: {
  privateKey: KeyObject;
  csrDer: Uint8Array;
  signedAt?: string;
  now?: Date;
}): { signedAt: string; signature: string } {
  const signedAt = options.signedAt ?? (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const message = attestationMessageImpl(signedAt, options.csrDer);
  const key = options.privateKey;
  const signature =
    schemeFor(key) === 'ecdsa'
      ? sign('sha256', message, { key, dsaEncoding: 'der' })
      : sign('sha256', message, {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: PSS_SALT_LENGTH,
        });
  return { signedAt, signature: signature.toString('base64') };
}

export function verifyAttestationImpl(options: {
  publicKey: KeyObject;
  csrDer: Uint8Array;
  proof: { signedAt: string; signature: string };
  now: Date;
  maxSkewSeconds?: number;
}): void {
  const { proof } = options;
  const scheme = schemeFor(options.publicKey);
  const signedAtMs = parseRfc3339Utc(proof.signedAt);
  if (signedAtMs === undefined)
    throw new AttestationError('malformed-timestamp', 'signedAt is not an RFC 3339 UTC timestamp');
  const skewMs = (options.maxSkewSeconds ?? DEFAULT_SKEW_SECONDS) * 1000;
  const nowMs = options.now.getTime();
  if (signedAtMs < nowMs - skewMs) throw new AttestationError('stale', 'signedAt is too old');
  if (signedAtMs > nowMs + skewMs) throw new AttestationError('future', 'signedAt is in the future');
  const sigText = typeof proof.signature === 'string' ? proof.signature : '';
  if (sigText.length === 0 || sigText.length > 2048 || !BASE64.test(sigText)) {
    throw new AttestationError('malformed-signature', 'signature is not base64');
  }
  const signature = Buffer.from(sigText, 'base64');
  const message = attestationMessageImpl(proof.signedAt, options.csrDer);
  let ok = false;
  try {
    ok =
      scheme === 'ecdsa'
        ? verify('sha256', message, { key: options.publicKey, dsaEncoding: 'der' }, signature)
        : verify(
            'sha256',
            message,
            { key: options.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH },
            signature,
          );
  } catch {
    ok = false;
  }
  if (!ok) throw new AttestationError('bad-signature', 'the attestation signature does not verify');
}
