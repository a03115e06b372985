/** @internal Default HTTP transport for OCSP, on node:http/https. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { OcspTransportError } from './errors.js';
import type { HttpTransportOptions, OcspTransport } from './types.js';

export function createHttpTransportImpl(options?: HttpTransportOptions): OcspTransport {
  const extraHeaders = options?.headers ?? {};
  return ({ url, body, timeoutMs, maxResponseBytes, signal }) =>
    new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const finish = (error: OcspTransportError | undefined, value?: Uint8Array): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error !== undefined) {
          req.destroy();
          reject(error);
        } else resolve(value ?? new Uint8Array());
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: 'POST',
          headers: {
            ...extraHeaders,
            'content-type': 'application/ocsp-request',
            accept: 'application/ocsp-response',
            'content-length': String(body.byteLength),
          },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            finish(
              new OcspTransportError('http-status', `OCSP responder returned HTTP ${res.statusCode}`, {
                statusCode: res.statusCode ?? 0,
              }),
            );
            return;
          }
          const declared = Number(res.headers['content-length'] ?? Number.NaN);
          if (Number.isFinite(declared) && declared > maxResponseBytes) {
            finish(
              new OcspTransportError('too-large', `OCSP response larger than ${maxResponseBytes} bytes`),
            );
            return;
          }
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (chunk: Buffer) => {
            total += chunk.length;
            if (total > maxResponseBytes) {
              finish(
                new OcspTransportError('too-large', `OCSP response larger than ${maxResponseBytes} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => finish(undefined, Buffer.concat(chunks)));
          res.on('error', (error) =>
            finish(
              new OcspTransportError('network', 'OCSP response stream failed', undefined, { cause: error }),
            ),
          );
        },
      );
      const timer = setTimeout(
        () =>
          finish(new OcspTransportError('timeout', `OCSP responder did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onAbort = (): void => finish(new OcspTransportError('timeout', 'OCSP request aborted'));
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) =>
        finish(new OcspTransportError('network', 'OCSP request failed', undefined, { cause: error })),
      );
      req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
}
