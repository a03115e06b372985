/** Real CA certificates with chosen faults (made with @peculiar/x509, signed for real), and fakes of the trust places. */
import { webcrypto } from 'node:crypto';
import { x509 } from '@cv/local-cloud';
import type { SupplierCa, SupplierStorePort, TrustPlacesPort } from '../src/suppliers/ports.js';

x509.cryptoProvider.set(webcrypto as never);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface CaOptions {
  readonly name?: string;
  readonly ca?: boolean;
  readonly keyCertSign?: boolean;
  readonly key?: 'P-256' | 'P-384' | 'P-521' | 'RSA-1024' | 'RSA-2048';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export async function makeCa(options: CaOptions = {}): Promise<string> {
  const key = options.key ?? 'P-256';
  const alg = key.startsWith('RSA')
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: Number(key.slice(4)),
      }
    : { name: 'ECDSA', namedCurve: key, hash: key === 'P-256' ? 'SHA-256' : 'SHA-384' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const usages =
    (options.keyCertSign === false ? 0 : x509.KeyUsageFlags.keyCertSign) |
    x509.KeyUsageFlags.cRLSign |
    x509.KeyUsageFlags.digitalSignature;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `0${Math.floor(Math.random() * 1e12).toString(16)}`.slice(-12).replace(/^0*/, '1'),
    name: options.name ?? 'CN=Acme Attestation CA,O=Acme',
    keys,
    notBefore: options.notBefore ?? new Date(Date.now() - 3600_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 3650 * 86400_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(options.ca ?? true, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return cert.toString('pem');
}

export type Step = 'writeTruststore' | 'pinTruststore' | 'writeBundle' | 'addCa' | 'retireCas';

/** The three trust places in memory: SSM value, S3 versions, the domain's pinned version. */
export class FakePlaces implements TrustPlacesPort {
  bundle: string;
  versions = new Map<string, string>();
  pinned: string | undefined;
  failOn = new Set<Step>();
  private next = 0;

  constructor(initial: string) {
    this.bundle = initial;
    this.pinned = this.put(initial);
  }

  private put(pem: string): string {
    const id = `v${++this.next}`;
    this.versions.set(id, pem);
    return id;
  }

  snapshot() {
    return { bundle: this.bundle, versions: [...this.versions], pinned: this.pinned };
  }

  async readBundle() {
    return this.bundle;
  }
  async writeBundle(pem: string) {
    if (this.failOn.has('writeBundle')) throw new Error('ThrottlingException');
    this.bundle = pem;
  }
  async pinnedTruststore() {
    return { uri: 's3://truststore/attestation-cas.pem', version: this.pinned };
  }
  async readTruststore(version: string) {
    const body = this.versions.get(version);
    if (body === undefined) throw new Error('NoSuchVersion');
    return body;
  }
  async writeTruststore(pem: string) {
    if (this.failOn.has('writeTruststore')) throw new Error('ServiceUnavailable');
    return this.put(pem);
  }
  async deleteTruststoreVersion(version: string) {
    this.versions.delete(version);
  }
  async pinTruststore(version: string) {
    if (this.failOn.has('pinTruststore')) {
      this.pinned = version; // failed after taking effect: the worst case
      throw new Error('TooManyRequestsException');
    }
    this.pinned = version;
  }
}

export class FakeStore implements SupplierStorePort {
  items = new Map<string, SupplierCa>();
  lockedBy: { owner: string; until: Date } | undefined;
  failOn = new Set<Step>();

  private k(s: string, key: string) {
    return `${s}/${key}`;
  }
  async casOf(id: string) {
    return [...this.items.values()].filter((c) => c.supplierId === id);
  }
  async all() {
    return [...this.items.values()];
  }
  async addCa(ca: SupplierCa) {
    if (this.failOn.has('addCa')) throw new Error('InternalServerError');
    if (
      [...this.items.values()].some((c) => c.supplierId === ca.supplierId && c.caKeySha256 === ca.caKeySha256)
    ) {
      return false;
    }
    this.items.set(this.k(ca.supplierId, ca.caKeySha256), ca);
    return true;
  }
  async removeCa(s: string, key: string) {
    this.items.delete(this.k(s, key));
  }
  async retireCas(s: string, keys: readonly string[], by: string, at: string) {
    if (this.failOn.has('retireCas')) throw new Error('InternalServerError');
    for (const key of keys) {
      const c = this.items.get(this.k(s, key));
      if (c?.status === 'ACTIVE')
        this.items.set(this.k(s, key), { ...c, status: 'RETIRED', retiredAt: at, retiredBy: by });
    }
  }
  async reactivateCas(s: string, keys: readonly string[]) {
    for (const key of keys) {
      const c = this.items.get(this.k(s, key));
      if (c?.status === 'RETIRED') {
        const { retiredAt: _a, retiredBy: _b, ...rest } = c;
        this.items.set(this.k(s, key), { ...rest, status: 'ACTIVE' });
      }
    }
  }
  async lock(owner: string, until: Date) {
    if (this.lockedBy !== undefined && this.lockedBy.until.getTime() > Date.now()) return false;
    this.lockedBy = { owner, until };
    return true;
  }
  async unlock(owner: string) {
    if (this.lockedBy?.owner === owner) this.lockedBy = undefined;
  }
}
