/**
 * The independent peer: `openssl verify` and a real `openssl ocsp` responder on loopback.
 * Every responder started here must be stopped (call `stop()` in afterAll).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestCert } from './pki.js';
import { toPem } from './pki.js';

export function tempDir(prefix = 'cv-pki-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** `openssl verify` verdict for a leaf with untrusted intermediates against anchors, at `at`. */
export function opensslVerify(options: {
  anchors: readonly TestCert[];
  intermediates?: readonly TestCert[];
  leaf: TestCert;
  at?: Date;
}): { ok: boolean; output: string } {
  const dir = tempDir('cv-verify-');
  try {
    writeFileSync(join(dir.path, 'anchors.pem'), options.anchors.map((c) => c.pem).join(''));
    writeFileSync(join(dir.path, 'leaf.pem'), options.leaf.pem);
    const args = ['verify', '-CAfile', join(dir.path, 'anchors.pem')];
    if (options.intermediates !== undefined && options.intermediates.length > 0) {
      writeFileSync(join(dir.path, 'untrusted.pem'), options.intermediates.map((c) => c.pem).join(''));
      args.push('-untrusted', join(dir.path, 'untrusted.pem'));
    }
    if (options.at !== undefined) args.push('-attime', String(Math.floor(options.at.getTime() / 1000)));
    args.push(join(dir.path, 'leaf.pem'));
    try {
      const output = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { ok: true, output };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  } finally {
    dir.remove();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** openssl index.txt line: `V` or `R`, expiry, revocation date[,reason], serial (hex), file, subject. */
export interface IndexEntry {
  readonly cert: TestCert;
  readonly notAfter: Date;
  readonly revokedAt?: Date;
  readonly reason?: string;
}

function opensslDate(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:T]/g, '')
    .slice(2);
}

export interface OcspResponder {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `openssl ocsp` as a responder for `ca` on a free loopback port. `signer` is the CA itself
 * (issuer-signed responses) or a delegated responder certificate issued by `ca`.
 */
export async function startOcspResponder(options: {
  ca: TestCert;
  signer: TestCert;
  entries: readonly IndexEntry[];
  /** ResponderID byKey instead of byName. */
  byKey?: boolean;
  /** nextUpdate in minutes (omitted: no nextUpdate). */
  nextUpdateMinutes?: number;
}): Promise<OcspResponder> {
  const dir = tempDir('cv-ocsp-');
  const lines = options.entries.map((e) => {
    const serial =
      e.cert.serial
        .toString('hex')
        .toUpperCase()
        .replace(/^00(?=.)/, '') || '00';
    const subject =
      typeof e.cert.subject === 'string' ? `/CN=${e.cert.subject}` : `/CN=${e.cert.subject.CN ?? 'x'}`;
    const revoked =
      e.revokedAt === undefined ? '' : `${opensslDate(e.revokedAt)}${e.reason ? `,${e.reason}` : ''}`;
    return [
      e.revokedAt === undefined ? 'V' : 'R',
      opensslDate(e.notAfter),
      revoked,
      serial,
      'unknown',
      subject,
    ].join('\t');
  });
  writeFileSync(join(dir.path, 'index.txt'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir.path, 'ca.pem'), options.ca.pem);
  writeFileSync(join(dir.path, 'rsigner.pem'), options.signer.pem);
  writeFileSync(
    join(dir.path, 'rkey.pem'),
    toPem('PRIVATE KEY', options.signer.key.privateKey.export({ format: 'der', type: 'pkcs8' })),
  );
  const port = await freePort();
  const args = [
    'ocsp',
    '-index',
    join(dir.path, 'index.txt'),
    '-port',
    String(port),
    '-rsigner',
    join(dir.path, 'rsigner.pem'),
    '-rkey',
    join(dir.path, 'rkey.pem'),
    '-CA',
    join(dir.path, 'ca.pem'),
    '-rmd',
    'sha256',
    '-ignore_err',
  ];
  if (options.byKey === true) args.push('-resp_key_id');
  if (options.nextUpdateMinutes !== undefined) args.push('-nmin', String(options.nextUpdateMinutes));
  const child = spawn('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    dir.remove();
  };
  // Readiness: openssl prints this once it listens. (A probe connection would block the
  // single-threaded responder until it times out, so we do not probe.)
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (stderr.includes('waiting for OCSP client connections')) {
      return { url: `http://127.0.0.1:${port}/`, port, process: child, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`openssl ocsp did not start: ${stderr}`);
}
