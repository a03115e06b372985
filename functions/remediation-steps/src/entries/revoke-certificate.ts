/** Entry of the revokeCertificate step: AWS IoT (the certificate) and AWS Private CA (the revocation). */
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { PrivateCaAdapter } from '../adapters/pca.js';
import type { RemediationState } from '../plan.js';
import { advance } from '../state.js';
import { revokeCertificate as revokeUseCase } from '../steps/revoke-certificate.js';
import { iot } from './iot.js';
import { clientConfig, config, on, once, record } from './runtime.js';

const pcaClient = once(() => new ACMPCAClient(clientConfig));

export const revokeCertificate = on<unknown, RemediationState>((input) =>
  advance('revokeCertificate', input, async (state) => {
    const c = config('revokeCertificate');
    const pca = new PrivateCaAdapter(pcaClient(), c.pcaCaArn ?? '');
    return record(await revokeUseCase(state, { iot: iot('revokeCertificate'), pca }));
  }),
);
