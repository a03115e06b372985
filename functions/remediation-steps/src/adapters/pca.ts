import {
  type ACMPCAClient,
  RequestAlreadyProcessedException,
  RevokeCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import type { PrivateCaPort } from '../ports.js';

/** {@link PrivateCaPort} on AWS Private CA. Revocations from remediation are for key compromise. */
export class PrivateCaAdapter implements PrivateCaPort {
  constructor(
    private readonly client: ACMPCAClient,
    private readonly caArn: string,
  ) {}

  async revoke(serialHex: string): Promise<'revoked' | 'already'> {
    try {
      await this.client.send(
        new RevokeCertificateCommand({
          CertificateAuthorityArn: this.caArn,
          CertificateSerial: serialHex,
          RevocationReason: 'KEY_COMPROMISE',
        }),
      );
      return 'revoked';
    } catch (error) {
      if (error instanceof RequestAlreadyProcessedException) return 'already';
      throw error;
    }
  }
}
