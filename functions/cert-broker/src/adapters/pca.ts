import {
  type ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  type SigningAlgorithm,
  waitUntilCertificateIssued,
} from '@aws-sdk/client-acm-pca';
import { isThrottling, isTransient } from '../aws-errors.js';
import { UpstreamUnavailableError } from '../errors.js';
import type { CertificateAuthority, IssuedCertificate, IssueRequest } from '../ports.js';

export interface PcaOptions {
  readonly caArn: string;
  /** An APIPassthrough template, so ApiPassthrough's subject and SAN are honoured. */
  readonly templateArn: string;
  /** Signing algorithm of the CA key, e.g. SHA256WITHECDSA. */
  readonly signingAlgorithm: SigningAlgorithm;
  /** Longest wait for the issued certificate, in seconds (the waiter's maxWaitTime). */
  readonly maxWaitSeconds: number;
  /** Retry-After sent to clients when PCA throttles, in seconds. */
  readonly retryAfterSeconds: number;
}

/**
 * AWS Private CA: `IssueCertificate` (request), then `waitUntilCertificateIssued` (fetch;
 * GetCertificate answers RequestInProgressException until the certificate is ready). Two steps,
 * so the ARN can be recorded in between and a retry fetches instead of issuing again.
 */
export class PcaCertificateAuthority implements CertificateAuthority {
  constructor(
    private readonly client: ACMPCAClient,
    private readonly options: PcaOptions,
  ) {}

  async request(request: IssueRequest): Promise<string> {
    const issued = await this.call(() =>
      this.client.send(
        new IssueCertificateCommand({
          CertificateAuthorityArn: this.options.caArn,
          TemplateArn: this.options.templateArn,
          Csr: Buffer.from(request.csrPem, 'utf8'),
          SigningAlgorithm: this.options.signingAlgorithm,
          Validity: { Type: 'DAYS', Value: request.validityDays },
          IdempotencyToken: request.idempotencyToken,
          ApiPassthrough: {
            Subject: { CommonName: request.subjectCommonName },
            Extensions: {
              SubjectAlternativeNames: [{ UniformResourceIdentifier: request.subjectAlternativeNameUri }],
            },
          },
        }),
      ),
    );
    if (!issued.CertificateArn) throw new Error('IssueCertificate returned no CertificateArn');
    return issued.CertificateArn;
  }

  async fetch(certificateArn: string): Promise<IssuedCertificate> {
    const input = { CertificateAuthorityArn: this.options.caArn, CertificateArn: certificateArn };
    const waited = await this.call(() =>
      waitUntilCertificateIssued({ client: this.client, maxWaitTime: this.options.maxWaitSeconds }, input),
    );
    const result = waited.reason as { Certificate?: string; CertificateChain?: string } | undefined;
    if (result?.Certificate) {
      return { certificatePem: result.Certificate, certificateChainPem: result.CertificateChain ?? '' };
    }
    // The waiter's reason normally carries the GetCertificate output; fetch once more otherwise.
    const fetched = await this.call(() => this.client.send(new GetCertificateCommand(input)));
    if (!fetched.Certificate) throw new Error('GetCertificate returned no certificate');
    return { certificatePem: fetched.Certificate, certificateChainPem: fetched.CertificateChain ?? '' };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isThrottling(error) || isTransient(error) || isWaiterTimeout(error)) {
        throw new UpstreamUnavailableError('acm-pca', {
          retryAfterSeconds: this.options.retryAfterSeconds,
          throttled: isThrottling(error),
          cause: error,
        });
      }
      throw error;
    }
  }
}

function isWaiterTimeout(error: unknown): boolean {
  // @smithy/util-waiter's checkExceptions() throws plain Errors named after the waiter state.
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
