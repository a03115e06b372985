// Cost of the redaction layer per log line (`pnpm bench`).
import { bench, describe } from 'vitest';
import { redactingReplacer } from '../src/index.js';

const ordinary = {
  level: 'INFO',
  message: 'certificate issued',
  service: 'cert-broker',
  correlation_id: 'Ab1CdEfGhIjKlM=',
  thingName: '1HGCM82633A004352_gw-01',
  certificateId: 'a'.repeat(64),
  serialNumber: '5e:2f:00:11:22:33:44:55:66:77',
  notAfter: '2027-11-25T09:00:00.000Z',
};
const withSecrets = {
  ...ordinary,
  headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlc2lnbmF0dXJl' },
  note: `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(64)}\n${'B'.repeat(64)}\n-----END PRIVATE KEY-----\n`,
};

describe('JSON.stringify of one log line', () => {
  bench('no replacer (baseline)', () => {
    JSON.stringify(ordinary);
  });
  bench('redacting replacer, ordinary line', () => {
    JSON.stringify(ordinary, redactingReplacer);
  });
  bench('redacting replacer, line with a JWT and a private key', () => {
    JSON.stringify(withSecrets, redactingReplacer);
  });
});
