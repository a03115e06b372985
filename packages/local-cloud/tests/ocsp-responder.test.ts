/**
 * The local Private CA's OCSP responder (one long-lived `openssl ocsp`), with `openssl ocsp` as the
 * independent client building the requests and checking the signed answers.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, x509 } from '../src/pki.js';
import { isDerSequence, OCSP_MALFORMED_REQUEST } from '../src/services/ocsp-responder.js';
import { PcaService } from '../src/services/pca.js';

const run = promisify(execFile);
const CA_ARN = 'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/ocsp-test';
let pca: PcaService;
let dir: string;

beforeAll(async () => {
  pca = await PcaService.create(CA_ARN);
  dir = mkdtempSync(join(tmpdir(), 'ocsp-responder-'));
  writeFileSync(join(dir, 'issuer.pem'), pca.issuing.certificatePem);
});
afterAll(() => {
  pca.close();
  rmSync(dir, { recursive: true, force: true });
});

async function issue(cn: string): Promise<{ arn: string; file: string }> {
  const { keys } = await generateKeyPair();
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm: alg,
  });
  const arn = await pca.issue({
    CertificateAuthorityArn: CA_ARN,
    Csr: Buffer.from(csr.toString('pem')).toString('base64'),
    SigningAlgorithm: 'SHA256WITHECDSA',
    Validity: { Type: 'DAYS', Value: 1 },
  });
  const file = join(dir, `${cn}.pem`);
  writeFileSync(file, pca.issued.get(arn)?.pem ?? '');
  return { arn, file };
}

/** An OCSP request for the certificate, built by `openssl ocsp -reqout`. */
async function requestFor(file: string): Promise<Buffer> {
  const out = `${file}.req`;
  await run('openssl', ['ocsp', '-issuer', join(dir, 'issuer.pem'), '-cert', file, '-reqout', out]);
  return readFileSync(out);
}

/** The status `openssl ocsp` reads from the answer, after verifying its signature. */
async function statusOf(file: string, response: Buffer): Promise<string> {
  const resp = `${file}.resp`;
  writeFileSync(resp, response);
  const issuer = join(dir, 'issuer.pem');
  const { stdout } = await run('openssl', [
    ...['ocsp', '-issuer', issuer, '-cert', file, '-respin', resp, '-VAfile', issuer, '-no_nonce'],
  ]);
  return /: (good|revoked|unknown)/.exec(stdout)?.[1] ?? stdout;
}

/** Processes whose command line names `needle` (Linux /proc). */
function processesNaming(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

describe('local Private CA OCSP responder (long-lived openssl ocsp)', () => {
  it('leaves no openssl process behind once the CA is closed', async () => {
    const own = await PcaService.create(CA_ARN);
    const index = String((own as unknown as { dir: string }).dir);
    const { keys } = await generateKeyPair();
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=own',
      keys,
      signingAlgorithm: alg,
    });
    const arn = await own.issue({
      CertificateAuthorityArn: CA_ARN,
      Csr: Buffer.from(csr.toString('pem')).toString('base64'),
      SigningAlgorithm: 'SHA256WITHECDSA',
      Validity: { Type: 'DAYS', Value: 1 },
    });
    const file = join(dir, 'own.pem');
    writeFileSync(file, own.issued.get(arn)?.pem ?? '');
    writeFileSync(join(dir, 'own-issuer.pem'), own.issuing.certificatePem);
    await run('openssl', [
      'ocsp',
      '-issuer',
      join(dir, 'own-issuer.pem'),
      '-cert',
      file,
      '-reqout',
      `${file}.req`,
    ]);
    await own.ocsp(readFileSync(`${file}.req`));
    expect(processesNaming(index).length).toBeGreaterThan(0);
    own.close();
    for (let i = 0; i < 100 && processesNaming(index).length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(processesNaming(index)).toEqual([]);
  });

  it('knows each certificate as soon as IssueCertificate returns, however quickly issuances follow each other', async () => {
    // Several issuances within one second: OpenSSL compares the index's mtime in whole seconds and
    // reloads only before it waits for a connection; a responder that relied on that alone answers unknown.
    for (let i = 0; i < 6; i++) {
      const { file } = await issue(`burst-${i}`);
      expect(await statusOf(file, await pca.ocsp(await requestFor(file)))).toBe('good');
    }
  });

  it('answers revoked right after RevokeCertificate, and good for the certificates not revoked', async () => {
    const a = await issue('revoked-a');
    const b = await issue('kept-b');
    const reqA = await requestFor(a.file);
    expect(await statusOf(a.file, await pca.ocsp(reqA))).toBe('good');
    const serial = pca.issued.get(a.arn)?.serial ?? '';
    pca.revoke({
      CertificateAuthorityArn: CA_ARN,
      CertificateSerial: serial,
      RevocationReason: 'KEY_COMPROMISE',
    });
    expect(await statusOf(a.file, await pca.ocsp(reqA))).toBe('revoked');
    expect(await statusOf(b.file, await pca.ocsp(await requestFor(b.file)))).toBe('good');
  });

  it('answers concurrent requests each about its own certificate', async () => {
    const certs = await Promise.all(['c0', 'c1', 'c2', 'c3'].map(issue));
    const requests = await Promise.all(certs.map((c) => requestFor(c.file)));
    const answers = await Promise.all(requests.map((r) => pca.ocsp(r)));
    const statuses = await Promise.all(certs.map((c, i) => statusOf(c.file, answers[i] ?? Buffer.alloc(0))));
    expect(statuses).toEqual(['good', 'good', 'good', 'good']);
  });

  it('answers malformedRequest to input that is not one DER SEQUENCE, and keeps answering after it', async () => {
    const bad = [
      Buffer.alloc(0),
      Buffer.from('garbage'),
      Buffer.from([0x30, 0x05, 0x02, 0x01]), // truncated
      Buffer.from([0x30, 0x00, 0x00]), // trailing byte
      Buffer.from([0x30, 0x81, 0x05, 0, 0, 0, 0, 0]), // long form for a short length (not DER)
      Buffer.from([0x04, 0x01, 0x00]), // not a SEQUENCE
    ];
    for (const b of bad) {
      expect(isDerSequence(b)).toBe(false);
      expect(await pca.ocsp(b)).toEqual(OCSP_MALFORMED_REQUEST);
    }
    // A well-formed SEQUENCE that is no OCSPRequest reaches openssl, which ignores it: an error, not a hang.
    await expect(pca.ocsp(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))).rejects.toThrow();
    const { file } = await issue('after-bad');
    expect(await statusOf(file, await pca.ocsp(await requestFor(file)))).toBe('good');
  }, 20_000);
});
