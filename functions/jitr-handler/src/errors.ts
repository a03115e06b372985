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
