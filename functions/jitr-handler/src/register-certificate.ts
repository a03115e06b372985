import { checkOcsp, type OcspHashAlgorithm, type OcspTransport } from '@cv/crypto/ocsp';
import { parseCertificate } from '@cv/crypto/x509';
import { ECU_ROLES, type EcuRole } from '@cv/policy';
import type { CaCertificates, RolePolicies } from './caches.js';
import { CertificateDescriptionError, OcspUnknownStatusError } from './errors.js';
import type { EcuRegistry, IotControlPlane } from './ports.js';

/** The JITR event, already parsed at the edge. */
export interface JitrEvent {
  readonly certificateId: string;
  readonly caCertificateId: string;
}

export interface OcspSettings {
  readonly allowedHosts: readonly string[];
  /** Used when the certificate has no AIA OCSP URL. */
  readonly fallbackUrl: string | undefined;
  readonly transport: OcspTransport;
  readonly timeoutMs: number;
  readonly hashAlgorithm: OcspHashAlgorithm;
}

export interface RegisterCertificateDeps {
  readonly iot: IotControlPlane;
  readonly registry: EcuRegistry;
  readonly policies: RolePolicies;
  readonly caCertificates: CaCertificates;
  readonly operationalCaCertificateId: string;
  readonly ocsp: OcspSettings;
  readonly now: () => Date;
  /** Audit trail of decisions (structured, no secrets). */
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

/** Why a certificate was left as it was. */
export type SkipReason =
  | 'other-ca'
  | 'status'
  | 'malformed-identity'
  | 'identity-mismatch'
  | 'ecu-unknown'
  | 'ecu-not-active'
  | 'serial-mismatch';

export type RegistrationOutcome =
  | { readonly outcome: 'activated'; readonly thingName: string; readonly policyName: string }
  | { readonly outcome: 'revoked'; readonly thingName: string | undefined }
  | { readonly outcome: 'skipped'; readonly reason: SkipReason; readonly detail: string };

const THING_NAME = /^([A-HJ-NPR-Z0-9]{17})_([A-Za-z0-9-]{1,40})$/;
/** Statuses a registration may (still) move to ACTIVE; anything else an operator set and we never touch. */
const REGISTRABLE = new Set(['PENDING_ACTIVATION', 'ACTIVE']);

function isRole(role: string): role is EcuRole {
  return (ECU_ROLES as readonly string[]).includes(role);
}

/**
 * Just-in-time registration of an operational certificate (SPEC 5): OCSP first, then the
 * thing, the role policy and the exclusive attachment, the registry, and only then `ACTIVE`.
 * Idempotent: the repeated event converges. Transient failures, an unknown or unverifiable
 * OCSP answer throw (the certificate stays `PENDING_ACTIVATION` and the event is retried);
 * a certificate that must never be activated is left untouched and reported as skipped.
 *
 * @example
 * const outcome = await registerCertificate({ certificateId, caCertificateId }, deps);
 */
export async function registerCertificate(
  event: JitrEvent,
  deps: RegisterCertificateDeps,
): Promise<RegistrationOutcome> {
  const skip = (reason: SkipReason, detail: string): RegistrationOutcome => {
    deps.log('certificate left unchanged', { certificateId: event.certificateId, reason, detail });
    return { outcome: 'skipped', reason, detail };
  };

  // 1. Only our operational CA; the event names it, the description must agree.
  if (event.caCertificateId !== deps.operationalCaCertificateId) {
    return skip('other-ca', `CA ${event.caCertificateId} is not the operational CA`);
  }
  const described = await deps.iot.describeCertificate(event.certificateId);
  if (described.caCertificateId !== deps.operationalCaCertificateId) {
    return skip('other-ca', `certificate is issued by CA ${described.caCertificateId ?? 'none'}`);
  }
  if (!REGISTRABLE.has(described.status)) {
    return skip('status', `certificate status is ${described.status}`);
  }
  if (!described.certificatePem || !described.certificateArn) {
    throw new CertificateDescriptionError(event.certificateId, 'no PEM or ARN in the description');
  }
  const certificate = parseCertificate(described.certificatePem);
  const issuer = parseCertificate(await deps.caCertificates.pem(deps.operationalCaCertificateId));
  const match = THING_NAME.exec(certificate.subjectCN ?? '');

  // 2. Revocation, fail closed: any error and `unknown` throw before anything is created.
  const ocsp = await checkOcsp({
    cert: certificate,
    issuer,
    url: certificate.ocspUrls[0] ?? deps.ocsp.fallbackUrl,
    allowedHosts: deps.ocsp.allowedHosts,
    transport: deps.ocsp.transport,
    timeoutMs: deps.ocsp.timeoutMs,
    hashAlgorithm: deps.ocsp.hashAlgorithm,
    now: deps.now(),
  });
  if (ocsp.status === 'revoked') {
    await deps.iot.setCertificateStatus(event.certificateId, 'REVOKED');
    deps.log('certificate revoked by OCSP', {
      certificateId: event.certificateId,
      serialNumber: certificate.serialNumber,
      revokedAt: ocsp.revokedAt.toISOString(),
      reason: ocsp.reason,
    });
    return { outcome: 'revoked', thingName: match?.[0] };
  }
  if (ocsp.status !== 'good') throw new OcspUnknownStatusError(event.certificateId);

  // 3. The identity: CN = <VIN>_<ecuId>, the SAN agrees, the registry agrees.
  const [thingName, vin, ecuId] = match ?? [];
  if (thingName === undefined || vin === undefined || ecuId === undefined) {
    return skip('malformed-identity', 'certificate CN is not <VIN>_<ecuId>');
  }
  if (!certificate.sanUris.includes(`urn:cv:vin:${vin}:ecu:${ecuId}`)) {
    return skip('identity-mismatch', 'certificate SAN URI does not match its CN');
  }
  const ecu = await deps.registry.get(ecuId);
  if (ecu === undefined) return skip('ecu-unknown', `ECU ${ecuId} is not registered`);
  if (ecu.status !== 'ACTIVE') return skip('ecu-not-active', `ECU ${ecuId} has status ${ecu.status}`);
  if (ecu.vin !== vin || (ecu.thingName !== undefined && ecu.thingName !== thingName) || !isRole(ecu.role)) {
    return skip('identity-mismatch', `registry row of ECU ${ecuId} does not match ${thingName}`);
  }
  if (ecu.certificateSerial !== undefined && ecu.certificateSerial !== certificate.serialNumber) {
    return skip('serial-mismatch', `ECU ${ecuId} was last issued serial ${ecu.certificateSerial}`);
  }

  // 4. Thing, role policy (once per container), attachments: all idempotent.
  await deps.iot.ensureThing(thingName, { vin, ecuId, role: ecu.role });
  const policyName = await deps.policies.ensure(ecu.role);
  await deps.iot.attachPolicy(policyName, described.certificateArn);
  await deps.iot.attachThingPrincipalExclusive(thingName, described.certificateArn);
  const recorded = await deps.registry.recordCertificate(ecuId, vin, {
    certificateId: event.certificateId,
    thingName,
    updatedAt: deps.now().toISOString(),
  });
  if (!recorded) return skip('ecu-not-active', `ECU ${ecuId} changed status during registration`);

  // 5. Only now may the device connect.
  await deps.iot.setCertificateStatus(event.certificateId, 'ACTIVE');
  deps.log('certificate activated', { certificateId: event.certificateId, thingName, policyName });
  return { outcome: 'activated', thingName, policyName };
}
