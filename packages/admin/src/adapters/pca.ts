import {
  type ACMPCAClient,
  RequestAlreadyProcessedException,
  ResourceNotFoundException,
  RevokeCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import { AdminConfigError } from '../errors.js';
import type { CertificateAuthorityPort } from '../lifecycle/ports.js';

/** The serial as Private CA wants it: lower-case hex bytes joined by colons (as remediation's revokeCertificate sends it). */
export function pcaSerial(serialHex: string): string {
  const hex = serialHex.toLowerCase().replace(/[^0-9a-f]/g, '');
  const even = hex.length % 2 === 0 ? hex : `0${hex}`;
  return (even.match(/../g) ?? []).join(':');
}

/**
 * {@link CertificateAuthorityPort} on AWS Private CA (`PCA_CA_ARN`): revocation for `CESSATION_OF_OPERATION`
 * (the ECU is retired). A certificate this CA did not issue is `not-issued` (it is still set REVOKED in IoT).
 */
export class PrivateCaRevoker implements CertificateAuthorityPort {
  constructor(
    private readonly client: ACMPCAClient,
    private readonly caArn: string | undefined,
  ) {}

  async revoke(serialHex: string): Promise<'revoked' | 'already' | 'not-issued'> {
    if (this.caArn === undefined) throw new AdminConfigError('PCA_CA_ARN is required to decommission');
    try {
      await this.client.send(
        new RevokeCertificateCommand({
          CertificateAuthorityArn: this.caArn,
          CertificateSerial: pcaSerial(serialHex),
          RevocationReason: 'CESSATION_OF_OPERATION',
        }),
      );
      return 'revoked';
    } catch (error) {
      if (error instanceof RequestAlreadyProcessedException) return 'already';
      if (error instanceof ResourceNotFoundException) return 'not-issued';
      throw error;
    }
  }
}
