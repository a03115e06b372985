/** Entry of the deactivateCertificate step (AWS IoT only). */
import type { RemediationState } from '../plan.js';
import { advance } from '../state.js';
import { deactivateCertificate as deactivateUseCase } from '../steps/deactivate-certificate.js';
import { iot } from './iot.js';
import { on, record } from './runtime.js';

export const deactivateCertificate = on<unknown, RemediationState>((input) =>
  advance('deactivateCertificate', input, async (state) =>
    record(await deactivateUseCase(state, { iot: iot('deactivateCertificate') })),
  ),
);
