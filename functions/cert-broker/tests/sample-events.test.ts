/**
 * Every sample event under events/cert-broker/ runs through the handler (AWS mocked), with
 * the sample trust bundle: the events stay real-shaped and valid.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CA_ARN, fakePca, fakeRegistry, LEDGER_TABLE, REGISTRY_TABLE, TEMPLATE_ARN } from './helpers/aws.js';
import { opensslVerify } from './helpers/pki.js';
import {
  buildWorld,
  issuerKeySha256,
  lambdaContext,
  sampleEvent,
  sampleFile,
  toResponse,
  type World,
} from './helpers/world.js';

const SAMPLE_VIN = 'WVWZZZ1JZXW000001';
const SAMPLE_ECU = 'ECU-GW-0001';
/** The time the sample attestation was signed at. */
const SAMPLE_SIGNED_AT = new Date('2026-11-25T09:30:00Z');

let world: World;
let handler: typeof import('../src/handler.js').handler;

beforeAll(async () => {
  world = await buildWorld();
  Object.assign(process.env, {
    ECU_REGISTRY_TABLE: REGISTRY_TABLE,
    REPLAY_LEDGER_TABLE: LEDGER_TABLE,
    ISSUED_CERTIFICATES_TABLE: 'cv-security-dev-issued-certificates',
    PCA_CA_ARN: CA_ARN,
    PCA_TEMPLATE_ARN: TEMPLATE_ARN,
    ATTESTATION_TRUST_BUNDLE: sampleFile('trust-bundle.pem'),
    AWS_REGION: 'eu-west-1',
    LOG_LEVEL: 'SILENT',
  });
  ({ handler } = await import('../src/handler.js'));
});

afterEach(() => {
  vi.useRealTimers();
});

const eventFiles = readdirSync(
  fileURLToPath(new URL('../../../events/cert-broker/', import.meta.url)),
).filter((f) => f.endsWith('.json'));

describe('sample events', () => {
  it('covers both ways of proving possession', () => {
    expect(eventFiles.sort()).toEqual(['post-certificates-attestation.json', 'post-certificates-mtls.json']);
  });

  it.each(eventFiles)('%s -> 201 with a certificate for the sample ECU', async (file) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(SAMPLE_SIGNED_AT);
    const pca = fakePca(world.opIssuing, world.opChainPem);
    const registry = fakeRegistry([
      {
        ecuId: SAMPLE_ECU,
        vin: SAMPLE_VIN,
        role: 'gateway',
        status: 'ACTIVE',
        // The sample attestation certificate is issued by the bundle's (only) CA.
        attestationIssuerKeySha256: issuerKeySha256(sampleFile('trust-bundle.pem')),
      },
    ]);

    const res = toResponse(await handler(sampleEvent(file), lambdaContext));

    expect(res.status).toBe(201);
    expect(res.body.thingName).toBe(`${SAMPLE_VIN}_${SAMPLE_ECU}`);
    expect(
      opensslVerify(String(res.body.certificatePem), world.opRoot.pem, String(res.body.certificateChainPem)),
    ).toMatch(/OK/);
    expect(pca.requests).toHaveLength(1);
    expect(registry.table.get(SAMPLE_ECU)?.thingName).toBe(`${SAMPLE_VIN}_${SAMPLE_ECU}`);
  });
});
