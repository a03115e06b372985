import {
  ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  RequestInProgressException,
} from '@aws-sdk/client-acm-pca';
import { describe, expect, it } from 'vitest';
import { PcaCertificateAuthority } from '../src/adapters/pca.js';
import { UpstreamUnavailableError } from '../src/errors.js';
import { CA_ARN, TEMPLATE_ARN } from './helpers/aws.js';
import { mockAws } from './helpers/mock.js';

const request = {
  csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
  subjectCommonName: 'WVWZZZ1JZXW000001_ECU-GW-0001',
  subjectAlternativeNameUri: 'urn:cv:vin:WVWZZZ1JZXW000001:ecu:ECU-GW-0001',
  validityDays: 365,
  idempotencyToken: '0123456789abcdef0123456789abcdef',
};

describe('PcaCertificateAuthority', () => {
  it('a certificate still in progress when the wait ends is a retryable 503, not a failure', async () => {
    const pca = mockAws(ACMPCAClient);
    pca.on(IssueCertificateCommand as never).resolves({ CertificateArn: `${CA_ARN}/certificate/01` });
    pca
      .on(GetCertificateCommand as never)
      .rejects(new RequestInProgressException({ message: 'in progress', $metadata: {} }));
    const ca = new PcaCertificateAuthority(new ACMPCAClient({ region: 'eu-west-1' }), {
      caArn: CA_ARN,
      templateArn: TEMPLATE_ARN,
      signingAlgorithm: 'SHA256WITHECDSA',
      maxWaitSeconds: 2,
      retryAfterSeconds: 5,
    });

    const error = await ca.fetch(await ca.request(request)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ service: 'acm-pca', retryAfterSeconds: 5, throttled: false });
    expect(pca.commandCalls(IssueCertificateCommand as never)).toHaveLength(1);
  });
});
