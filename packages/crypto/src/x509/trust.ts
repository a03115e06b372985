/** @internal Trust stores. */
import { createHash } from 'node:crypto';
import { internal, parseCertificateImpl, parseCertificatesImpl } from './certificate.js';
import { CertificateParseError } from './errors.js';
import type { Certificate, TrustStore } from './types.js';

class TrustStoreImpl implements TrustStore {
  readonly anchors: readonly Certificate[];
  readonly #bySubject = new Map<string, Certificate[]>();
  readonly #keys = new Set<string>();

  constructor(anchors: readonly Certificate[]) {
    this.anchors = anchors;
    for (const anchor of anchors) {
      const key = anchor.subjectDer.toString('base64');
      const list = this.#bySubject.get(key) ?? [];
      list.push(anchor);
      this.#bySubject.set(key, list);
      this.#keys.add(anchor.spki.toString('base64'));
    }
  }

  bySubject(nameDer: Buffer): readonly Certificate[] {
    return this.#bySubject.get(nameDer.toString('base64')) ?? [];
  }

  hasKey(spki: Buffer): boolean {
    return this.#keys.has(spki.toString('base64'));
  }
}

export function createTrustStoreImpl(
  input: string | Uint8Array | readonly (string | Uint8Array | Certificate)[],
): TrustStore {
  let anchors: Certificate[];
  if (typeof input === 'string') {
    anchors = parseCertificatesImpl(input);
  } else if (input instanceof Uint8Array) {
    anchors = [parseCertificateImpl(input)];
  } else if (Array.isArray(input)) {
    anchors = input.flatMap((item: string | Uint8Array | Certificate) =>
      typeof item === 'string'
        ? parseCertificatesImpl(item)
        : item instanceof Uint8Array
          ? [parseCertificateImpl(item)]
          : [internal(item)],
    );
  } else {
    throw new CertificateParseError('pem', 'trust anchors must be PEM, DER or certificates');
  }
  if (anchors.length === 0) throw new CertificateParseError('pem', 'the trust bundle holds no certificate');
  // Warm the anchors' public keys once: every validation uses them.
  for (const anchor of anchors) void anchor.publicKey;
  return new TrustStoreImpl(anchors);
}

const MAX_CACHED = 16;
const cache = new Map<string, TrustStore>();

export function loadTrustStoreImpl(pem: string): TrustStore {
  const digest = createHash('sha256').update(pem).digest('base64');
  const hit = cache.get(digest);
  if (hit !== undefined) {
    cache.delete(digest);
    cache.set(digest, hit);
    return hit;
  }
  const store = createTrustStoreImpl(pem);
  cache.set(digest, store);
  if (cache.size > MAX_CACHED) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return store;
}
