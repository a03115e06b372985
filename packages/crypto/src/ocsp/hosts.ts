/** @internal Responder host allowlist. */
import { OcspHostNotAllowedError } from './errors.js';

export function assertAllowedHostImpl(url: string, allowedHosts: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OcspHostNotAllowedError('the OCSP responder URL is not a valid URL', {
      url: String(url).slice(0, 200),
      host: '',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OcspHostNotAllowedError(`OCSP responder URL scheme ${parsed.protocol} is not allowed`, {
      url: parsed.href,
      host: parsed.hostname,
    });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new OcspHostNotAllowedError('OCSP responder URL must not carry credentials', {
      url: parsed.origin,
      host: parsed.hostname,
    });
  }
  const host = parsed.hostname.toLowerCase().replace(/\.$/, '');
  const allowed = allowedHosts.some((h) => h.trim().toLowerCase().replace(/\.$/, '') === host);
  if (!allowed) {
    throw new OcspHostNotAllowedError(`OCSP responder host ${host} is not allowed`, {
      url: parsed.href,
      host,
    });
  }
  return parsed;
}
