/** Errors of the JITR use case. Throwing one fails the invocation, so IoT/Lambda retries it. */
export class JitrError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JitrError';
  }
}

/** The OCSP responder does not know the certificate: fail closed and retry later. */
export class OcspUnknownStatusError extends JitrError {
  readonly certificateId: string;
  constructor(certificateId: string) {
    super(`OCSP status of certificate ${certificateId} is unknown`);
    this.name = 'OcspUnknownStatusError';
    this.certificateId = certificateId;
  }
}

/** A thing with this name exists with other attributes: an operator must look. */
export class ThingConflictError extends JitrError {
  readonly thingName: string;
  constructor(thingName: string, detail: string) {
    super(`Thing ${thingName} exists with different attributes (${detail})`);
    this.name = 'ThingConflictError';
    this.thingName = thingName;
  }
}

/** The certificate description from IoT is unusable (no PEM, no ARN). */
export class CertificateDescriptionError extends JitrError {
  readonly certificateId: string;
  constructor(certificateId: string, detail: string) {
    super(`Certificate ${certificateId}: ${detail}`);
    this.name = 'CertificateDescriptionError';
    this.certificateId = certificateId;
  }
}

/**
 * The new certificate is ACTIVE but a previous certificate of the thing could not be retired
 * (set INACTIVE and detached). Thrown so the invocation is retried; the retry converges.
 */
export class CertificateRetirementError extends JitrError {
  readonly thingName: string;
  readonly certificateId: string;
  /** The certificate being retired; `undefined` when listing the thing's principals failed. */
  readonly retiringCertificateId: string | undefined;
  constructor(
    thingName: string,
    certificateId: string,
    retiringCertificateId: string | undefined,
    cause: unknown,
  ) {
    super(
      `Certificate ${certificateId} is ACTIVE but ${
        retiringCertificateId === undefined
          ? 'the principals'
          : `previous certificate ${retiringCertificateId}`
      } of ${thingName} could not be ${retiringCertificateId === undefined ? 'listed' : 'retired'}`,
      { cause },
    );
    this.name = 'CertificateRetirementError';
    this.thingName = thingName;
    this.certificateId = certificateId;
    this.retiringCertificateId = retiringCertificateId;
  }
}

/** AttachPolicy named a policy that does not exist: the stack has not created it (serverless/resources/ecu-policies.yml). */
export class PolicyNotFoundError extends JitrError {
  constructor(readonly policyName: string) {
    super(`IoT policy ${policyName} does not exist`);
    this.name = 'PolicyNotFoundError';
  }
}
