/** An ECU simulator for tests that never reach a gateway or KMS: a fresh P-256 attestation key, placeholders elsewhere. */
import { generateKeyPairSync } from 'node:crypto';
import type { KMS } from '@aws-sdk/client-kms';
import { EcuSimulator } from '../src/index.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

export function offlineEcu(ecuId: string): EcuSimulator {
  return new EcuSimulator({
    vin: 'WVWZZZ1JZXW000001',
    ecuId,
    attestation: {
      certificatePem: 'birth certificate (not read by the simulator)',
      privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    },
    kms: {} as KMS,
    telemetryKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k',
    commandKeys: [],
    commandIssuer: 'cv-security:test',
  });
}
