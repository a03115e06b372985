/**
 * The x509-limbo peer suite (C2SP/x509-limbo, Apache-2.0): the pinned corpus under tests/limbo/,
 * one case run through `validateChain` and through `openssl verify`.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Certificate,
  CertificateParseError,
  ChainValidationError,
  createTrustStore,
  type KeyUsageFlag,
  parseCertificate,
  validateChain,
} from '../../src/x509/index.js';
import { tempDir } from './pki-openssl.js';

export interface LimboCase {
  readonly id: string;
  readonly description: string;
  readonly features: readonly string[] | null;
  readonly conflicts_with: readonly string[];
  readonly expected_result: 'SUCCESS' | 'FAILURE';
  readonly validation_time: string;
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly key_usage: readonly string[];
  readonly extended_key_usage: readonly string[];
  readonly max_chain_depth: number | null;
}

export interface LimboCorpus {
  readonly source: string;
  readonly generated_at: string;
  readonly excluded: readonly { readonly id: string; readonly reason: string }[];
  readonly cases: readonly LimboCase[];
}

export function loadCorpus(): LimboCorpus {
  const path = join(import.meta.dirname, '..', 'limbo', 'corpus.json');
  return JSON.parse(readFileSync(path, 'utf8')) as LimboCorpus;
}

/** Category for the agreement table: `rfc5280::nc`, `webpki::aki`, `pathlen`, ... */
export function categoryOf(id: string): string {
  const parts = id.split('::');
  return parts.length > 2 ? `${parts[0]}::${parts[1]}` : (parts[0] as string);
}

const EKU: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
};

export interface Verdict {
  readonly accepted: boolean;
  /** `ChainValidationError.reason`, `parse` for a certificate we refuse to parse, or `ok`. */
  readonly reason: string;
}

function parseAll(pems: readonly string[]): Certificate[] {
  return pems.map((pem) => parseCertificate(pem));
}

/** Our verdict: the case's anchors, intermediates, time (no clock skew), key usages and depth. */
export function runOurs(c: LimboCase): Verdict {
  if (c.extended_key_usage.length > 1) throw new Error(`${c.id}: more than one EKU is not mapped`);
  const eku = c.extended_key_usage[0];
  try {
    validateChain({
      leaf: parseCertificate(c.peer_certificate),
      intermediates: parseAll(c.untrusted_intermediates),
      trust: createTrustStore(parseAll(c.trusted_certs)),
      now: new Date(c.validation_time),
      clockSkewSeconds: 0,
      leafKeyUsage: c.key_usage as readonly KeyUsageFlag[],
      ...(eku === undefined ? {} : { leafExtKeyUsage: EKU[eku] ?? eku }),
      // limbo counts intermediates; maxPathLength counts the leaf and the anchor too.
      ...(c.max_chain_depth === null ? {} : { maxPathLength: c.max_chain_depth + 2 }),
    });
    return { accepted: true, reason: 'ok' };
  } catch (error) {
    if (error instanceof ChainValidationError) return { accepted: false, reason: error.reason };
    if (error instanceof CertificateParseError) return { accepted: false, reason: 'parse' };
    throw error;
  }
}

const PURPOSE: Readonly<Record<string, string>> = { serverAuth: 'sslserver', clientAuth: 'sslclient' };

/**
 * `openssl verify -x509_strict` on the same case, with the flags the suite's own OpenSSL harness
 * sets: partial chains (an intermediate may be a trust anchor), security level 2, the case's time,
 * purpose and depth; no system trust store.
 */
export function runOpenssl(c: LimboCase): Promise<boolean> {
  const dir = tempDir('cv-limbo-');
  const file = (name: string, pems: readonly string[]): string => {
    const path = join(dir.path, name);
    writeFileSync(path, pems.join('\n'));
    return path;
  };
  const args = ['verify', '-x509_strict', '-partial_chain', '-auth_level', '2', '-no-CApath', '-no-CAstore'];
  args.push('-CAfile', file('trusted.pem', c.trusted_certs));
  if (c.untrusted_intermediates.length > 0) {
    args.push('-untrusted', file('untrusted.pem', c.untrusted_intermediates));
  }
  args.push('-attime', String(Math.floor(new Date(c.validation_time).getTime() / 1000)));
  const purpose = PURPOSE[c.extended_key_usage[0] ?? ''];
  if (purpose !== undefined) args.push('-purpose', purpose);
  if (c.max_chain_depth !== null) args.push('-verify_depth', String(c.max_chain_depth));
  args.push(file('leaf.pem', [c.peer_certificate]));
  return new Promise((resolve) => {
    execFile('openssl', args, { timeout: 60_000 }, (error) => {
      dir.remove();
      resolve(error === null);
    });
  });
}

/** `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
