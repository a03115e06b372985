import { MissingTargetError } from '../errors.js';
import type { StepResult } from '../plan.js';
import type { IotPort } from '../ports.js';
import { deviceTargets, result, type StepInput } from './common.js';

export interface DeactivateCertificateDeps {
  iot: Pick<
    IotPort,
    'thingsForCertificate' | 'certificatesForThing' | 'describeCertificate' | 'setCertificateStatus'
  >;
}

const ALREADY_OFF = new Set(['INACTIVE', 'REVOKED']);

/**
 * Sets the finding's certificate (or every certificate attached to its thing) INACTIVE. A certificate that is
 * already INACTIVE or REVOKED is left alone, so a retry is a no-op.
 */
export async function deactivateCertificate(
  input: StepInput,
  deps: DeactivateCertificateDeps,
): Promise<StepResult> {
  const { plan } = input;
  if (plan.thingName === undefined && plan.certificateId === undefined) {
    throw new MissingTargetError('deactivateCertificate', 'a thing name or a certificate id');
  }
  const { certificates } = await deviceTargets(plan, deps.iot, { certificates: true });
  const deactivated: string[] = [];
  const unchanged: string[] = [];
  for (const id of certificates) {
    const cert = await deps.iot.describeCertificate(id);
    if (cert === undefined || ALREADY_OFF.has(cert.status)) {
      unchanged.push(id);
      continue;
    }
    await deps.iot.setCertificateStatus(id, 'INACTIVE');
    deactivated.push(id);
  }
  const data = { deactivated, unchanged };
  if (deactivated.length === 0) {
    const why = certificates.length === 0 ? 'no certificate attached' : 'already inactive, revoked or gone';
    return result('deactivateCertificate', 'unchanged', why, data);
  }
  return result('deactivateCertificate', 'changed', `set INACTIVE: ${deactivated.join(', ')}`, data);
}
