import { X509Certificate } from 'node:crypto';
import { MissingTargetError, StepFailedError } from '../errors.js';
import type { StepResult } from '../plan.js';
import type { IotPort, PrivateCaPort } from '../ports.js';
import { certificatesSeenByDeactivate, deviceTargets, result, type StepInput } from './common.js';

export interface RevokeCertificateDeps {
  iot: Pick<
    IotPort,
    'thingsForCertificate' | 'certificatesForThing' | 'describeCertificate' | 'setCertificateStatus'
  >;
  pca: PrivateCaPort;
}

/**
 * Revokes the certificate in AWS Private CA (serial read from the certificate IoT holds) and sets it REVOKED in
 * AWS IoT. "Already revoked" from the CA and an IoT status of REVOKED both count as done, so a retry is a no-op.
 * After a `deactivateCertificate` of the same execution it revokes exactly the certificates that step saw: a
 * certificate the genuine ECU obtained by re-enrolling in between (attached to the same thing) is never revoked.
 */
export async function revokeCertificate(input: StepInput, deps: RevokeCertificateDeps): Promise<StepResult> {
  const { plan } = input;
  if (plan.thingName === undefined && plan.certificateId === undefined) {
    throw new MissingTargetError('revokeCertificate', 'a thing name or a certificate id');
  }
  const certificates =
    certificatesSeenByDeactivate(input.results) ??
    (await deviceTargets(plan, deps.iot, { certificates: true })).certificates;
  const changed: string[] = [];
  const unchanged: string[] = [];
  for (const id of certificates) {
    const cert = await deps.iot.describeCertificate(id);
    if (cert === undefined) {
      unchanged.push(id);
      continue;
    }
    const pca = await deps.pca.revoke(serialOf(cert.pem, id));
    let iotChanged = false;
    if (cert.status !== 'REVOKED') {
      await deps.iot.setCertificateStatus(id, 'REVOKED');
      iotChanged = true;
    }
    (pca === 'revoked' || iotChanged ? changed : unchanged).push(id);
  }
  const data = { revoked: changed, unchanged };
  if (changed.length === 0) {
    const why =
      certificates.length === 0 ? 'no certificate to revoke' : 'already revoked in the CA and in AWS IoT';
    return result('revokeCertificate', 'unchanged', why, data);
  }
  return result('revokeCertificate', 'changed', `revoked: ${changed.join(', ')}`, data);
}

/** The certificate's serial as AWS Private CA takes it: lower-case hex, colon-separated (as openssl prints it). */
export function serialOf(pem: string, certificateId: string): string {
  let serial: string;
  try {
    serial = new X509Certificate(pem).serialNumber;
  } catch (error) {
    throw new StepFailedError('revokeCertificate', `certificate ${certificateId} has no readable PEM`, {
      cause: error,
    });
  }
  const hex = serial.toLowerCase();
  const even = hex.length % 2 === 0 ? hex : `0${hex}`;
  return even.match(/../g)?.join(':') ?? even;
}
