/**
 * A real operational PKI made with the openssl CLI: CA, delegated OCSP signer, a rogue
 * signer the CA never certified, and device certificates with AIA and SAN like AWS Private CA
 * issues them. The OCSP index is openssl's `ca` database format.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

function openssl(args: readonly string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

export interface DeviceCertificate {
  readonly pem: string;
  /** Uppercase hex, as in the openssl index. */
  readonly serial: string;
  readonly subject: string;
}

export class OperationalPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'cv-jitr-pki-'));
  readonly caPem: string;
  private readonly index: string[] = [];

  constructor() {
    const d = this.dir;
    writeFileSync(
      join(d, 'ext.cnf'),
      [
        '[ca]',
        'basicConstraints=critical,CA:true,pathlen:0',
        'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
        'subjectKeyIdentifier=hash',
        '[ocsp]',
        'basicConstraints=critical,CA:false',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=OCSPSigning',
        'authorityKeyIdentifier=keyid',
        '',
      ].join('\n'),
    );
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], d);
    openssl(
      [
        'req',
        '-new',
        '-x509',
        '-key',
        'ca.key',
        '-subj',
        '/O=cv-security/CN=Operational Issuing CA',
        '-days',
        '30',
        '-sha256',
        '-config',
        join(d, 'ext.cnf'),
        '-extensions',
        'ca',
        '-out',
        'ca.pem',
      ],
      d,
    );
    // Delegated OCSP responder, certified by the CA (as AWS Private CA does).
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ocsp.key'], d);
    openssl(
      ['req', '-new', '-key', 'ocsp.key', '-subj', '/O=cv-security/CN=OCSP Responder', '-out', 'ocsp.csr'],
      d,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'ocsp.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        '0x0C5F',
        '-days',
        '30',
        '-sha256',
        '-extfile',
        join(d, 'ext.cnf'),
        '-extensions',
        'ocsp',
        '-out',
        'ocsp.pem',
      ],
      d,
    );
    // A forger: same subject, own key, never certified by the CA.
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'rogue.key'], d);
    openssl(
      [
        'req',
        '-new',
        '-x509',
        '-key',
        'rogue.key',
        '-subj',
        '/O=cv-security/CN=OCSP Responder',
        '-days',
        '30',
        '-config',
        join(d, 'ext.cnf'),
        '-extensions',
        'ocsp',
        '-out',
        'rogue.pem',
      ],
      d,
    );
    writeFileSync(join(d, 'index.txt'), '');
    // Several certificates per subject (re-enrolment), as in any real CA database.
    writeFileSync(join(d, 'index.txt.attr'), 'unique_subject = no\n');
    this.caPem = readFileSync(join(d, 'ca.pem'), 'utf8');
  }

  /** Issues a device certificate like AWS Private CA would (CN, URI SAN, AIA OCSP). */
  issue(options: {
    cn: string;
    sanUri?: string;
    ocspUrl?: string;
    state?: 'good' | 'revoked' | 'unknown';
  }): DeviceCertificate {
    const d = this.dir;
    // First nibble 1-7: a positive INTEGER with no leading zero byte, so every tool prints the same hex.
    const serial = randomBytes(8)
      .toString('hex')
      .toUpperCase()
      .replace(/^[089A-F]/, '1');
    const name = `dev-${serial}`;
    const ext = [
      '[dev]',
      'basicConstraints=critical,CA:false',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth',
      'authorityKeyIdentifier=keyid',
      ...(options.sanUri ? [`subjectAltName=URI:${options.sanUri}`] : []),
      ...(options.ocspUrl ? [`authorityInfoAccess=OCSP;URI:${options.ocspUrl}`] : []),
      '',
    ].join('\n');
    writeFileSync(join(d, `${name}.cnf`), ext);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], d);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${options.cn}`, '-out', `${name}.csr`], d);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${serial}`,
        '-days',
        '7',
        '-sha256',
        '-extfile',
        `${name}.cnf`,
        '-extensions',
        'dev',
        '-out',
        `${name}.pem`,
      ],
      d,
    );
    const state = options.state ?? 'good';
    const subject = `/CN=${options.cn}`;
    if (state === 'good') this.index.push(`V\t301231000000Z\t\t${serial}\tunknown\t${subject}`);
    if (state === 'revoked') {
      this.index.push(`R\t301231000000Z\t261120000000Z,keyCompromise\t${serial}\tunknown\t${subject}`);
    }
    writeFileSync(join(d, 'index.txt'), this.index.length ? `${this.index.join('\n')}\n` : '');
    return { pem: readFileSync(join(d, `${name}.pem`), 'utf8'), serial, subject };
  }

  /**
   * Signs a CSR like AWS Private CA with an APIPassthrough template: the subject and URI SAN
   * are the given ones, not the CSR's; AIA points at the OCSP responder. Recorded as good.
   */
  signCsr(
    csrPem: string,
    options: { cn: string; sanUri: string; ocspUrl: string; days: number },
  ): DeviceCertificate {
    const d = this.dir;
    // First nibble 1-7: a positive INTEGER with no leading zero byte, so every tool prints the same hex.
    const serial = randomBytes(8)
      .toString('hex')
      .toUpperCase()
      .replace(/^[089A-F]/, '1');
    const name = `csr-${serial}`;
    writeFileSync(join(d, `${name}.csr`), csrPem);
    writeFileSync(
      join(d, `${name}.cnf`),
      [
        '[dev]',
        'basicConstraints=critical,CA:false',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=clientAuth',
        'authorityKeyIdentifier=keyid',
        `subjectAltName=URI:${options.sanUri}`,
        `authorityInfoAccess=OCSP;URI:${options.ocspUrl}`,
        '',
      ].join('\n'),
    );
    const subject = `/CN=${options.cn}`;
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${serial}`,
        '-subj',
        subject,
        '-days',
        String(options.days),
        '-sha256',
        '-extfile',
        `${name}.cnf`,
        '-extensions',
        'dev',
        '-out',
        `${name}.pem`,
      ],
      d,
    );
    this.index.push(`V\t301231000000Z\t\t${serial}\tunknown\t${subject}`);
    writeFileSync(join(d, 'index.txt'), `${this.index.join('\n')}\n`);
    return { pem: readFileSync(join(d, `${name}.pem`), 'utf8'), serial, subject };
  }

  /** Marks an issued certificate revoked in the responder's database. */
  revoke(serial: string): void {
    const i = this.index.findIndex((line) => line.split('\t')[3] === serial);
    const line = this.index[i];
    if (line === undefined) throw new Error(`unknown serial ${serial}`);
    const subject = line.split('\t')[5] ?? '';
    this.index[i] = `R\t301231000000Z\t261120000000Z,keyCompromise\t${serial}\tunknown\t${subject}`;
    writeFileSync(join(this.dir, 'index.txt'), `${this.index.join('\n')}\n`);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface Responder {
  readonly url: string;
  /** OCSP requests received. */
  readonly requests: () => number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * An OCSP responder on loopback: each POSTed request is answered by `openssl ocsp` in
 * responder mode (`-index -reqin -respout`), signed by the delegated signer or, for
 * `signer: 'rogue'`, by a key the CA never certified.
 */
export async function startOpensslResponder(
  pki: OperationalPki,
  signer: 'delegated' | 'rogue' = 'delegated',
): Promise<Responder> {
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      count += 1;
      const id = randomBytes(6).toString('hex');
      const reqFile = join(pki.dir, `req-${id}.der`);
      const respFile = join(pki.dir, `resp-${id}.der`);
      try {
        writeFileSync(reqFile, Buffer.concat(chunks));
        const key = signer === 'rogue' ? 'rogue' : 'ocsp';
        await run(
          'openssl',
          [
            'ocsp',
            '-index',
            'index.txt',
            '-CA',
            'ca.pem',
            '-rsigner',
            `${key}.pem`,
            '-rkey',
            `${key}.key`,
            '-reqin',
            reqFile,
            '-respout',
            respFile,
            '-ndays',
            '1',
          ],
          { cwd: pki.dir },
        );
        const body = readFileSync(respFile);
        res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': body.length });
        res.end(body);
      } catch {
        res.writeHead(500);
        res.end();
      }
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/`,
    requests: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A server that only counts connections (proves that no request was attempted). */
export async function startCountingServer(): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> {
  let connections = 0;
  const server = createServer((_req, res) => {
    res.writeHead(500);
    res.end();
  });
  server.on('connection', () => {
    connections += 1;
  });
  const port = await listen(server);
  return {
    port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port nothing listens on. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
