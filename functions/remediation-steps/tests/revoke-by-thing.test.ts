/**
 * revokeCertificate on a plan that names only the thing (no certificate id): the certificates come from the thing's
 * principals. The IAM proof (packages/iam) found this path untested: the step's iot:ListThingPrincipals grant was
 * used by no recorded call.
 */
import { ACMPCAClient, RevokeCertificateCommand } from '@aws-sdk/client-acm-pca';
import {
  DescribeCertificateCommand,
  IoTClient,
  ListThingPrincipalsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { RemediationState } from '../src/plan.js';
import { CERT, THING } from './corpus.js';
import {
  ACCOUNT,
  context,
  inputs,
  mock,
  opensslCertificate,
  PCA,
  REGION,
  STEP_ENV,
  stateAt,
} from './harness.js';

const iot = mock(IoTClient);
const pca = mock(ACMPCAClient);
const saved = { ...process.env };
let h: typeof import('../src/handler.js');

beforeAll(async () => {
  Object.assign(process.env, STEP_ENV);
  h = await import('../src/handler.js');
});
afterAll(() => {
  process.env = saved;
  iot.restore();
  pca.restore();
});
beforeEach(() => {
  iot.reset();
  pca.reset();
});

it("revokes every certificate attached to the plan's thing when the plan names no certificate", async () => {
  const cert = opensslCertificate(THING);
  iot
    .on(ListThingPrincipalsCommand)
    .resolves({ principals: [`arn:aws:iot:${REGION}:${ACCOUNT}:cert/${CERT}`] });
  iot.on(DescribeCertificateCommand).resolves({
    certificateDescription: { certificateId: CERT, status: 'INACTIVE', certificatePem: cert.pem },
  });
  iot.on(UpdateCertificateCommand).resolves({});
  pca.on(RevokeCertificateCommand).resolves({});
  const state = stateAt('audit-device-certificate-shared', 'revokeCertificate');
  const { certificateId: _, ...plan } = state.plan;
  const input: RemediationState = { ...state, plan: { ...plan, thingName: THING } };

  const out = (await h.revokeCertificate(input, context())) as RemediationState;

  expect(inputs(iot, ListThingPrincipalsCommand)).toEqual([expect.objectContaining({ thingName: THING })]);
  expect(inputs(pca, RevokeCertificateCommand)).toEqual([
    expect.objectContaining({ CertificateAuthorityArn: PCA }),
  ]);
  expect(inputs(iot, UpdateCertificateCommand)).toEqual([
    expect.objectContaining({ certificateId: CERT, newStatus: 'REVOKED' }),
  ]);
  expect(out.results.at(-1)).toMatchObject({ action: 'revokeCertificate', outcome: 'changed' });
});
