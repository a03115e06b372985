import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A self-signed EC P-256 CA made by openssl (the independent peer) in `dir`: `<name>.key` and `<name>.pem`, with
 * `basicConstraints=critical,CA:TRUE` and `keyUsage=critical,keyCertSign,cRLSign`. Returns the certificate's PEM.
 *
 * @example const pem = opensslCa(dir, 'att', 'Manufacturer attestation CA');
 */
export function opensslCa(dir: string, name: string, cn: string, days = 30): string {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      String(days),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${name}.pem`,
    ],
    { cwd: dir, stdio: 'pipe' },
  );
  return readFileSync(join(dir, `${name}.pem`), 'utf8');
}
