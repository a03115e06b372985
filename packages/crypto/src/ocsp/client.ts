/** @internal The whole OCSP check. */
import { OcspError, OcspTransportError } from './errors.js';
import { assertAllowedHostImpl } from './hosts.js';
import { buildOcspRequestImpl } from './request.js';
import { parseOcspResponseImpl } from './response.js';
import type { CheckOcspOptions, OcspResult } from './types.js';
import { verifyOcspResponseImpl } from './verify.js';

export async function checkOcspImpl(options: CheckOcspOptions): Promise<OcspResult> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
  const target = options.url ?? options.cert.ocspUrls[0];
  if (target === undefined)
    throw new OcspTransportError(
      'no-responder-url',
      'no OCSP responder URL (no AIA OCSP entry and none configured)',
    );
  const url = assertAllowedHostImpl(target, options.allowedHosts);
  const request = buildOcspRequestImpl(options.cert, options.issuer, {
    hashAlgorithm: options.hashAlgorithm ?? 'sha256',
    nonce: options.nonce ?? false,
  });

  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new OcspTransportError('timeout', `OCSP responder did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  let body: Uint8Array;
  try {
    body = await Promise.race([
      options.transport({ url, body: request.der, timeoutMs, maxResponseBytes, signal: controller.signal }),
      timeout,
    ]);
  } catch (error) {
    if (error instanceof OcspError) throw error;
    throw new OcspTransportError('network', 'OCSP request failed', undefined, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  if (!(body instanceof Uint8Array))
    throw new OcspTransportError('network', 'the transport returned no bytes');
  if (body.byteLength > maxResponseBytes) {
    throw new OcspTransportError('too-large', `OCSP response larger than ${maxResponseBytes} bytes`);
  }
  const parsed = parseOcspResponseImpl(body);
  return verifyOcspResponseImpl(parsed, {
    cert: options.cert,
    issuer: options.issuer,
    nonce: request.nonce,
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.clockSkewSeconds !== undefined ? { clockSkewSeconds: options.clockSkewSeconds } : {}),
    ...(options.maxAgeSeconds !== undefined ? { maxAgeSeconds: options.maxAgeSeconds } : {}),
  });
}
