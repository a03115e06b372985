import { checkOcsp, type OcspHashAlgorithm, type OcspTransport } from '@cv/crypto/ocsp';
import { parseCertificate } from '@cv/crypto/x509';
import { ECU_ROLES, type EcuRole } from '@cv/policy';
import type { CaCertificates, RolePolicies } from './caches.js';
import { CertificateDescriptionError, CertificateRetirementError, OcspUnknownStatusError } from './errors.js';
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
  | {
      readonly outcome: 'activated';
      readonly thingName: string;
      readonly policyName: string;
      /** Previous certificates of the thing retired by this invocation (INACTIVE or left so, detached). */
      readonly retiredCertificateIds: readonly string[];
    }
  | { readonly outcome: 'revoked'; readonly thingName: string | undefined }
  | { readonly outcome: 'skipped'; readonly reason: SkipReason; readonly detail: string };

const THING_NAME = /^([A-HJ-NPR-Z0-9]{17})_([A-Za-z0-9-]{1,40})$/;
/** Statuses a registration may (still) move to ACTIVE; anything else an operator set and we never touch. */
const REGISTRABLE = new Set(['PENDING_ACTIVATION', 'ACTIVE']);
/** Statuses of a previous certificate that still (or could still) let its key connect: set INACTIVE. */
const DEACTIVATE = new Set(['ACTIVE', 'PENDING_ACTIVATION']);
const CERTIFICATE_ARN = /^arn:[\w-]+:iot:[\w-]+:\d{12}:cert\/([0-9a-f]{64})$/;

function isRole(role: string): role is EcuRole {
  return (ECU_ROLES as readonly string[]).includes(role);
}

/**
 * Just-in-time registration of an operational certificate (SPEC 5): OCSP first, then the
 * thing, the role policy and the exclusive attachment, the registry, and only then `ACTIVE`;
 * after that, every other certificate of the thing is set `INACTIVE` and detached (a failure
 * there throws so the invocation is retried; the new certificate stays `ACTIVE`).
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

  // 6. Retire every other certificate of the thing (re-enrolment): a stolen old key stops working.
  const retiredCertificateIds = await retirePreviousCertificates(
    thingName,
    event.certificateId,
    policyName,
    deps,
  );
  return { outcome: 'activated', thingName, policyName, retiredCertificateIds };
}

/**
 * Sets every certificate attached to the thing other than `currentCertificateId` INACTIVE
 * (unless it already is INACTIVE, REVOKED or otherwise unusable), detaches the role policy
 * from it and detaches it from the thing, in that order. The thing's principals are the
 * to-do list and the detachment is the last step, so an invocation that fails midway leaves
 * the rest for the retry and a repeated event finds nothing more to do. Non-certificate
 * principals are logged and left alone.
 */
async function retirePreviousCertificates(
  thingName: string,
  currentCertificateId: string,
  policyName: string,
  deps: RegisterCertificateDeps,
): Promise<string[]> {
  const retired: string[] = [];
  let principals: string[];
  try {
    principals = await deps.iot.listThingPrincipals(thingName);
  } catch (error) {
    throw new CertificateRetirementError(thingName, currentCertificateId, undefined, error);
  }
  for (const principal of principals) {
    const certificateId = CERTIFICATE_ARN.exec(principal)?.[1];
    if (certificateId === undefined) {
      deps.log('non-certificate principal on thing left attached', { thingName, principal });
      continue;
    }
    if (certificateId === currentCertificateId) continue;
    try {
      const status = await deps.iot.certificateStatus(certificateId);
      if (status !== undefined && DEACTIVATE.has(status)) {
        await deps.iot.setCertificateStatus(certificateId, 'INACTIVE');
      }
      if (status !== undefined) await deps.iot.detachPolicy(policyName, principal);
      await deps.iot.detachThingPrincipal(thingName, principal);
      deps.log('previous certificate retired', {
        thingName,
        certificateId: currentCertificateId,
        retiredCertificateId: certificateId,
        previousStatus: status ?? 'deleted',
      });
      retired.push(certificateId);
    } catch (error) {
      throw new CertificateRetirementError(thingName, currentCertificateId, certificateId, error);
    }
  }
  return retired;
}
