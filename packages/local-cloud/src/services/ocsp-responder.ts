/**
 * The local Private CA's OCSP responder: one long-lived `openssl ocsp` process (an independent
 * implementation, not this project's code) asked over loopback HTTP, answering from the CA's
 * index file, instead of one `openssl ocsp` spawned per request (the largest cost of JITR under
 * load). `-port` takes no address: it listens on every interface, on an ephemeral port.
 *
 * OpenSSL 3 reloads the index when it changes, but checks only before it waits for the next
 * connection, and compares the file's modification time in whole seconds. So every change of
 * the index stamps it with a new, strictly increasing modification time ({@link indexChanged}),
 * and the first request after a change is sent twice: the first answer (possibly from the old
 * index) is dropped, the second is computed after the reload. Requests go to the process one at
 * a time, which is what makes that ordering hold.
 *
 * The process is started on the first request, through `sh` watching its standard input: when
 * this process exits, even killed, the pipe closes and the shell stops `openssl`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { utimesSync } from 'node:fs';
import { request } from 'node:http';

/** `OCSPResponse ::= SEQUENCE { responseStatus malformedRequest(1) }` (RFC 6960 4.2.1). */
export const OCSP_MALFORMED_REQUEST = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]);

/** True when `der` is one DER SEQUENCE spanning exactly the buffer (what an OCSPRequest is). */
export function isDerSequence(der: Buffer): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1] ?? 0;
  if (first < 0x80) return der.length === 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return false;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (der[2 + i] ?? 0);
  return length >= 0x80 && der.length === 2 + n + length;
}

export interface OcspResponderFiles {
  readonly index: string;
  readonly caPem: string;
  readonly caKey: string;
}

export class OcspResponder {
  private child: ChildProcessWithoutNullStreams | undefined;
  private port: Promise<number> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private dirty = true;
  /** Modification time (seconds) given to the index at its last change. */
  private stamp = 1_000_000_000;
  private closed = false;

  constructor(
    private readonly files: OcspResponderFiles,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Call after every write of the index file. */
  indexChanged(): void {
    this.stamp += 1;
    utimesSync(this.files.index, this.stamp, this.stamp);
    this.dirty = true;
  }

  /** The DER OCSP response to a DER OCSP request (malformedRequest when it is not one DER SEQUENCE). */
  respond(der: Buffer): Promise<Buffer> {
    if (!isDerSequence(der)) return Promise.resolve(OCSP_MALFORMED_REQUEST);
    const next = this.queue.then(async () => {
      const port = await this.start();
      if (this.dirty) {
        this.dirty = false;
        await this.post(port, der);
      }
      return this.post(port, der);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.closed = true;
    // The watchdog shell stops openssl when its standard input ends; killing the shell instead
    // would leave openssl running.
    this.child?.stdin.end();
    this.child = undefined;
  }

  private start(): Promise<number> {
    if (this.closed) return Promise.reject(new Error('OCSP responder closed'));
    if (this.port) return this.port;
    const { index, caPem, caKey } = this.files;
    const args = [
      ...['-index', index, '-CA', caPem, '-rsigner', caPem, '-rkey', caKey],
      // Any free port (printed as `ACCEPT [::]:PORT`); a request not read in 3 s is dropped;
      // a malformed one must not stop the responder.
      ...['-port', '0', '-timeout', '3', '-nmin', '60', '-ignore_err'],
    ];
    const child = spawn(
      'sh',
      ['-c', 'openssl ocsp "$@" & pid=$!; cat >/dev/null; kill $pid', 'sh', ...args],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    this.port = new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('openssl ocsp did not start')), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const port = /ACCEPT \S*:(\d+) /.exec(out)?.[1];
        if (port) {
          clearTimeout(timer);
          resolve(Number(port));
        }
      });
      child.stderr.resume();
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error('openssl ocsp exited'));
        // A later request starts a new one.
        this.port = undefined;
        this.dirty = true;
      });
    });
    return this.port;
  }

  private post(port: number, der: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          agent: false,
          timeout: this.timeoutMs,
          headers: { 'content-type': 'application/ocsp-request', 'content-length': der.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(Buffer.concat(chunks))
              : reject(new Error(`openssl ocsp answered ${res.statusCode}`)),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('openssl ocsp did not answer')));
      req.on('error', reject);
      req.end(der);
    });
  }
}
