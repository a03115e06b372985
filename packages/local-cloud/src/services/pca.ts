/**
 * AWS Private CA (awsJson1_1, target prefix `ACMPrivateCA`) over a local CA hierarchy (root and
 * issuing CA generated at start), and an OCSP responder that reflects revocations: one
 * long-lived `openssl ocsp` over an index file this service keeps (ocsp-responder.ts).
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsApiError } from '../errors.js';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  issueLeaf,
  pemOf,
  randomSerial,
  x509,
} from '../pki.js';
import { jsonRouter, type ServiceHandler, str } from '../wire.js';
import { OcspResponder } from './ocsp-responder.js';

interface IssuedRecord {
  readonly arn: string;
  readonly serial: string;
  readonly pem: string;
  readonly notAfter: Date;
  fetched: boolean;
  revoked?: { at: Date; reason: string };
}

const SUBJECT_OIDS: Record<string, string> = {
  Country: '2.5.4.6',
  Organization: '2.5.4.10',
  OrganizationalUnit: '2.5.4.11',
  DistinguishedNameQualifier: '2.5.4.46',
  State: '2.5.4.8',
  CommonName: '2.5.4.3',
  SerialNumber: '2.5.4.5',
  Locality: '2.5.4.7',
  Title: '2.5.4.12',
  Surname: '2.5.4.4',
  GivenName: '2.5.4.42',
  Initials: '2.5.4.43',
  Pseudonym: '2.5.4.65',
  GenerationQualifier: '2.5.4.44',
};

function utcIndexDate(d: Date): string {
  const iso = d.toISOString(); // 2026-11-25T09:00:00.000Z
  return `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

export function normaliseSerial(serial: string): string {
  const hex = serial
    .replace(/[:\s]/g, '')
    .toLowerCase()
    .replace(/^(00)+(?=.)/, '');
  if (!/^[0-9a-f]+$/.test(hex))
    throw new AwsApiError('InvalidRequestException', 'CertificateSerial must be hexadecimal');
  return hex;
}

export class PcaService {
  readonly issued = new Map<string, IssuedRecord>();
  readonly bySerial = new Map<string, IssuedRecord>();
  private readonly tokens = new Map<string, { arn: string; at: number }>();
  readonly calls = new Map<string, number>();
  private readonly dir: string;
  private ocspUrl = '';
  private readonly responder: OcspResponder;

  private constructor(
    readonly caArn: string,
    readonly root: CertificateAuthority,
    readonly issuing: CertificateAuthority,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'cv-local-pca-'));
    writeFileSync(join(this.dir, 'index.txt'), '');
    writeFileSync(join(this.dir, 'index.txt.attr'), 'unique_subject = no\n');
    writeFileSync(join(this.dir, 'ca.pem'), issuing.certificatePem);
    writeFileSync(join(this.dir, 'ca.key'), issuing.privateKeyPem, { mode: 0o600 });
    this.responder = new OcspResponder({
      index: join(this.dir, 'index.txt'),
      caPem: join(this.dir, 'ca.pem'),
      caKey: join(this.dir, 'ca.key'),
    });
  }

  /** Generates the root and the issuing CA (EC P-256) of the Private CA `caArn`. */
  static async create(caArn: string): Promise<PcaService> {
    const root = await createCertificateAuthority({
      name: 'CN=cv-security local root CA, O=cv-security local',
    });
    const issuing = await createCertificateAuthority({
      name: 'CN=cv-security local operational CA, O=cv-security local',
      parent: root,
      pathLength: 0,
    });
    return new PcaService(caArn, root, issuing);
  }

  setOcspUrl(url: string): void {
    this.ocspUrl = url;
  }

  close(): void {
    this.responder.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** PEM chain of issued certificates: issuing CA then root. */
  get chainPem(): string {
    return `${this.issuing.certificatePem}${this.root.certificatePem}`;
  }

  private checkCa(input: Record<string, unknown>): void {
    const arn = str(input, 'CertificateAuthorityArn');
    if (arn !== this.caArn) {
      throw new AwsApiError('ResourceNotFoundException', `Could not find certificate authority ${arn}.`);
    }
  }

  async issue(input: Record<string, unknown>): Promise<string> {
    this.checkCa(input);
    const token = typeof input.IdempotencyToken === 'string' ? input.IdempotencyToken : undefined;
    if (token) {
      const seen = this.tokens.get(token);
      // The real service treats a token as valid for five minutes.
      if (seen && Date.now() - seen.at < 300_000) return seen.arn;
    }
    const csrText = Buffer.from(str(input, 'Csr'), 'base64').toString('utf8');
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrText.trim());
    } catch {
      throw new AwsApiError('MalformedCSRException', 'The certificate signing request is invalid.');
    }
    if (!(await csr.verify())) {
      throw new AwsApiError('MalformedCSRException', 'The certificate signing request signature is invalid.');
    }
    const algorithm = String(input.SigningAlgorithm ?? '');
    if (!/^SHA(256|384|512)WITHECDSA$/.test(algorithm)) {
      throw new AwsApiError(
        'InvalidArgsException',
        `Signing algorithm ${algorithm} does not match the CA key (EC_prime256v1).`,
      );
    }
    const template = typeof input.TemplateArn === 'string' ? input.TemplateArn : '';
    const passthrough = /APIPassthrough|APICSRPassthrough/.test(template);
    const api = (input.ApiPassthrough ?? {}) as {
      Subject?: Record<string, unknown>;
      Extensions?: { SubjectAlternativeNames?: Record<string, unknown>[] };
    };
    let subject: x509.JsonName | string = csr.subject;
    const uris: string[] = [];
    const dns: string[] = [];
    if (passthrough && api.Subject) {
      const name: x509.JsonName = [];
      for (const [field, value] of Object.entries(api.Subject)) {
        const oid = SUBJECT_OIDS[field];
        if (oid && typeof value === 'string') name.push({ [oid]: [value] });
      }
      if (name.length > 0) subject = name;
    }
    if (passthrough) {
      for (const san of api.Extensions?.SubjectAlternativeNames ?? []) {
        if (typeof san.UniformResourceIdentifier === 'string') uris.push(san.UniformResourceIdentifier);
        if (typeof san.DnsName === 'string') dns.push(san.DnsName);
      }
    }
    const notAfter = validityEnd(input.Validity as { Type?: string; Value?: number } | undefined);
    if (notAfter.getTime() > this.issuing.certificate.notAfter.getTime()) {
      throw new AwsApiError('ValidationException', 'The validity period exceeds that of the CA certificate.');
    }
    const serial = randomSerial();
    const cert = await issueLeaf(this.issuing, {
      subject,
      publicKey: csr.publicKey,
      serialNumber: serial,
      notAfter,
      uris,
      dnsNames: dns,
      ...(this.ocspUrl ? { ocspUrl: this.ocspUrl } : {}),
    });
    const arn = `${this.caArn}/certificate/${serial.padStart(32, '0')}`;
    const record: IssuedRecord = { arn, serial, pem: pemOf(cert), notAfter, fetched: false };
    this.issued.set(arn, record);
    this.bySerial.set(serial, record);
    appendFileSync(
      join(this.dir, 'index.txt'),
      `V\t${utcIndexDate(notAfter)}\t\t${serial.toUpperCase()}\tunknown\t/CN=${serial}\n`,
    );
    this.responder.indexChanged();
    if (token) this.tokens.set(token, { arn, at: Date.now() });
    return arn;
  }

  revoke(input: Record<string, unknown>): void {
    this.checkCa(input);
    const serial = normaliseSerial(str(input, 'CertificateSerial'));
    const record = this.bySerial.get(serial);
    if (!record)
      throw new AwsApiError('ResourceNotFoundException', `Certificate ${serial} was not issued by this CA.`);
    if (record.revoked)
      throw new AwsApiError('RequestAlreadyProcessedException', 'The certificate is already revoked.');
    const reason = String(input.RevocationReason ?? 'UNSPECIFIED');
    record.revoked = { at: new Date(), reason };
    const index = join(this.dir, 'index.txt');
    const openssl: Record<string, string> = {
      KEY_COMPROMISE: 'keyCompromise',
      CERTIFICATE_AUTHORITY_COMPROMISE: 'CACompromise',
      AFFILIATION_CHANGED: 'affiliationChanged',
      SUPERSEDED: 'superseded',
      CESSATION_OF_OPERATION: 'cessationOfOperation',
      PRIVILEGE_WITHDRAWN: 'privilegeWithdrawn',
      A_A_COMPROMISE: 'AACompromise',
    };
    const lines = readFileSync(index, 'utf8').split('\n');
    const updated = lines.map((line) => {
      const cols = line.split('\t');
      if (cols[3] !== serial.toUpperCase()) return line;
      const why = openssl[reason];
      cols[0] = 'R';
      cols[2] = why ? `${utcIndexDate(record.revoked?.at ?? new Date())},${why}` : utcIndexDate(new Date());
      return cols.join('\t');
    });
    writeFileSync(index, updated.join('\n'));
    this.responder.indexChanged();
  }

  /** Answers one DER OCSP request (`openssl ocsp` over the index, signed by the issuing CA). */
  ocsp(request: Buffer): Promise<Buffer> {
    return this.responder.respond(request);
  }

  handler(): ServiceHandler {
    const count = (op: string) => this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    return jsonRouter({
      IssueCertificate: async (input) => {
        count('IssueCertificate');
        return { CertificateArn: await this.issue(input) };
      },
      GetCertificate: (input) => {
        count('GetCertificate');
        this.checkCa(input);
        const record = this.issued.get(str(input, 'CertificateArn'));
        if (!record) throw new AwsApiError('ResourceNotFoundException', 'Could not find certificate.');
        if (!record.fetched) {
          // Issuance is asynchronous in the real service: the first read answers "in progress".
          record.fetched = true;
          throw new AwsApiError('RequestInProgressException', 'The request is still in progress.');
        }
        return { Certificate: record.pem.trim(), CertificateChain: this.chainPem.trim() };
      },
      GetCertificateAuthorityCertificate: (input) => {
        count('GetCertificateAuthorityCertificate');
        this.checkCa(input);
        return {
          Certificate: this.issuing.certificatePem.trim(),
          CertificateChain: this.root.certificatePem.trim(),
        };
      },
      RevokeCertificate: (input) => {
        count('RevokeCertificate');
        this.revoke(input);
        return {};
      },
    });
  }
}

function validityEnd(validity: { Type?: string; Value?: number } | undefined): Date {
  if (!validity || typeof validity.Value !== 'number' || validity.Value <= 0) {
    throw new AwsApiError('ValidationException', 'Validity is required');
  }
  const now = Date.now();
  switch (validity.Type) {
    case 'DAYS':
      return new Date(now + validity.Value * 86400_000);
    case 'MONTHS':
      return new Date(now + validity.Value * 30 * 86400_000);
    case 'YEARS':
      return new Date(now + validity.Value * 365 * 86400_000);
    case 'ABSOLUTE':
      return new Date(validity.Value * 1000);
    default:
      throw new AwsApiError(
        'ValidationException',
        `Validity type ${String(validity.Type)} is not supported locally`,
      );
  }
}
