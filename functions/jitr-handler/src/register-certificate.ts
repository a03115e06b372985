import { checkOcsp, type OcspHashAlgorithm, type OcspTransport } from '@cv/crypto/ocsp';
import { parseCertificate } from '@cv/crypto/x509';
import { ECU_ROLES, type EcuRole } from '@cv/policy';
import type { CaCertificates, RolePolicies } from './caches.js';
import { CertificateDescriptionError, CertificateRetirementError, OcspUnknownStatusError } from './errors.js';
import type { CertificateDescription, EcuRegistry, IotControlPlane, IssuedCertificates } from './ports.js';
import { describeFromRecord } from './recorded-certificate.js';

/** The JITR event, already parsed at the edge. */
export interface JitrEvent {
  readonly certificateId: string;
  readonly caCertificateId: string;
  /** What the event says (believed only with a verified issued-certificate record, see recorded-certificate.ts). */
  readonly certificateStatus?: string | undefined;
  readonly timestamp?: number | string | null | undefined;
  readonly awsAccountId?: string | undefined;
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
  /** cert-broker's issued-certificate records: a first enrolment without DescribeCertificate. */
  readonly issuedCertificates: IssuedCertificates;
  /** Where this function runs (the certificate ARN when the record is used). */
  readonly region: string;
  readonly accountId: string;
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

/** A write of the registration; a step already in place is not written again. */
export type RegistrationStep = 'thing' | 'thing-attachment' | 'policy-attachment' | 'registry' | 'activation';

export type RegistrationOutcome =
  | {
      /** This invocation set the certificate ACTIVE (after every other missing step). */
      readonly outcome: 'activated';
      readonly thingName: string;
      readonly policyName: string;
      /** Previous certificates of the thing retired by this invocation (INACTIVE or left so, detached). */
      readonly retiredCertificateIds: readonly string[];
    }
  | {
      /**
       * The certificate was already ACTIVE (a repeated event): only missing steps were written,
       * none at all when everything was in place (`completedSteps` empty: reads only).
       */
      readonly outcome: 'already-active';
      readonly thingName: string;
      readonly policyName: string;
      readonly completedSteps: readonly RegistrationStep[];
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
 * Just-in-time registration of an operational certificate (docs/architecture.md §5): OCSP first, then the
 * thing, the exclusive attachment, the role policy, the registry, and only then `ACTIVE`;
 * after that, every other certificate of the thing is set `INACTIVE` and detached (a failure
 * there throws so the invocation is retried; the new certificate stays `ACTIVE`).
 * What is already in place is read first (the thing's principals, unless the registry names no
 * certificate of the ECU yet; the certificate's policies when it is on the thing or ACTIVE; the
 * registry row) and only the missing steps are written:
 * the repeated event for a registered certificate makes reads only, a partial earlier run is
 * completed step for step, and an ACTIVE certificate is never set ACTIVE again. The repeat for
 * an ACTIVE certificate checks OCSP too (`revoked` sets it `REVOKED`).
 * Transient failures, an unknown or unverifiable OCSP answer throw (a pending certificate
 * stays `PENDING_ACTIVATION` and the event is retried); a certificate that must never be
 * activated is left untouched and reported as skipped.
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

  // 1. Only our operational CA; the event names it, the description must agree. The description
  //    comes from cert-broker's issued-certificate record when that is proven to be this certificate
  //    (recorded-certificate.ts), else from DescribeCertificate.
  if (event.caCertificateId !== deps.operationalCaCertificateId) {
    return skip('other-ca', `CA ${event.caCertificateId} is not the operational CA`);
  }
  const recorded = await describeFromRecord(event, deps);
  const fromRecord = 'description' in recorded;
  if (!('description' in recorded)) {
    deps.log('issued-certificate record not used', {
      certificateId: event.certificateId,
      reason: recorded.miss,
    });
  }
  const described =
    'description' in recorded
      ? recorded.description
      : await deps.iot.describeCertificate(event.certificateId);
  const refusal = refusalOf(described, deps.operationalCaCertificateId);
  if (refusal !== undefined) return skip(refusal.reason, refusal.detail);
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
  // The record's path read the row already (the same ECU: the same certificate's CN).
  const ecu = 'ecu' in recorded ? recorded.ecu : await deps.registry.get(ecuId);
  if (ecu === undefined) return skip('ecu-unknown', `ECU ${ecuId} is not registered`);
  if (ecu.status !== 'ACTIVE') return skip('ecu-not-active', `ECU ${ecuId} has status ${ecu.status}`);
  if (ecu.vin !== vin || (ecu.thingName !== undefined && ecu.thingName !== thingName) || !isRole(ecu.role)) {
    return skip('identity-mismatch', `registry row of ECU ${ecuId} does not match ${thingName}`);
  }
  if (ecu.certificateSerial !== undefined && ecu.certificateSerial !== certificate.serialNumber) {
    return skip('serial-mismatch', `ECU ${ecuId} was last issued serial ${ecu.certificateSerial}`);
  }

  // 4. What is already in place, read before any write: a repeated event for a registered
  //    certificate writes nothing, a partial earlier run gets exactly its missing steps. On a
  //    first enrolment (the registry names no certificate of this ECU and this one is not ACTIVE)
  //    nothing of this function can be in place but a partial earlier run, whose writes are each
  //    idempotent: the thing is not listed, and the registry write tells whether a certificate
  //    was recorded meanwhile (then its principals are listed and retired after activation).
  const active = described.status === 'ACTIVE';
  const arn = described.certificateArn;
  const attributes = { vin, ecuId, role: ecu.role };
  const firstEnrolment = !active && ecu.certificateId === undefined;
  const principals = firstEnrolment ? undefined : await deps.iot.listThingPrincipals(thingName); // undefined: no such thing
  const onThing = principals?.includes(arn) ?? false;
  let policyName = deps.policies.nameOf(ecu.role);
  // The role policy is attached after the thing attachment, so a certificate this function has
  // not put on the thing has not got the policy from it either: read it only otherwise.
  const hasPolicy =
    onThing || active ? (await deps.iot.certificatePolicyNames(arn)).includes(policyName) : false;
  const registryCurrent = ecu.certificateId === event.certificateId && ecu.thingName === thingName;
  const completed: RegistrationStep[] = [];

  // 5. The missing steps, in order: thing, exclusive attachment, role policy, registry.
  if (principals === undefined) {
    await deps.iot.ensureThing(thingName, attributes); // an existing thing must agree
    completed.push('thing');
  } else if (!onThing) {
    await deps.iot.checkThing(thingName, attributes); // a read: an existing thing must agree
  }
  if (!onThing) {
    await deps.iot.attachThingPrincipalExclusive(thingName, arn);
    completed.push('thing-attachment');
  }
  if (!hasPolicy) {
    policyName = await deps.policies.attach(deps.iot, ecu.role, arn); // the stack creates the policies
    completed.push('policy-attachment');
  }
  let previousCertificateId = ecu.certificateId;
  if (!registryCurrent) {
    const recorded = await deps.registry.recordCertificate(ecuId, vin, {
      certificateId: event.certificateId,
      thingName,
      updatedAt: deps.now().toISOString(),
    });
    if (!recorded.recorded) return skip('ecu-not-active', `ECU ${ecuId} changed status during registration`);
    previousCertificateId = recorded.previousCertificateId;
    completed.push('registry');
  }

  // 6. Only now may the device connect. An ACTIVE certificate is never set again, so a status an
  //    operator or remediation changed meanwhile (INACTIVE, REVOKED) is not overwritten.
  if (!active) {
    await deps.iot.setCertificateStatus(event.certificateId, 'ACTIVE');
    completed.push('activation');
  }
  deps.log(active ? 'certificate already active' : 'certificate activated', {
    certificateId: event.certificateId,
    thingName,
    policyName,
    completedSteps: completed,
    source: fromRecord ? 'issued-certificate record' : 'DescribeCertificate',
  });

  // 7. Retire every other certificate of the thing (re-enrolment): a stolen old key stops working.
  //    A first enrolment lists the thing only when the registry write found a certificate recorded
  //    meanwhile (a concurrent registration of another certificate of this ECU).
  const toRetire =
    principals ??
    (previousCertificateId !== undefined && previousCertificateId !== event.certificateId
      ? ((await deps.iot.listThingPrincipals(thingName)) ?? [])
      : []);
  const retiredCertificateIds = await retirePreviousCertificates(
    thingName,
    event.certificateId,
    toRetire,
    policyName,
    deps,
  );
  return active
    ? {
        outcome: 'already-active',
        thingName,
        policyName,
        completedSteps: completed,
        retiredCertificateIds,
      }
    : { outcome: 'activated', thingName, policyName, retiredCertificateIds };
}

/** Why a described certificate must be left alone (skip), or `undefined`; throws when the description is unusable. */
function refusalOf(
  described: CertificateDescription,
  operationalCaCertificateId: string,
): { reason: SkipReason; detail: string } | undefined {
  if (described.caCertificateId !== operationalCaCertificateId) {
    return {
      reason: 'other-ca',
      detail: `certificate is issued by CA ${described.caCertificateId ?? 'none'}`,
    };
  }
  if (!REGISTRABLE.has(described.status)) {
    return { reason: 'status', detail: `certificate status is ${described.status}` };
  }
  if (!described.certificatePem || !described.certificateArn) {
    throw new CertificateDescriptionError(described.certificateId, 'no PEM or ARN in the description');
  }
  return undefined;
}

/**
 * Sets every certificate attached to the thing other than `currentCertificateId` INACTIVE
 * (unless it already is INACTIVE, REVOKED or otherwise unusable), detaches the role policy
 * from it and detaches it from the thing, in that order. The thing's principals (listed once,
 * before any write) are the to-do list and the detachment is the last step, so an invocation
 * that fails midway leaves the rest for the retry and a repeated event finds nothing more to
 * do. Non-certificate principals are logged and left alone.
 */
async function retirePreviousCertificates(
  thingName: string,
  currentCertificateId: string,
  principals: readonly string[],
  policyName: string,
  deps: RegisterCertificateDeps,
): Promise<string[]> {
  const retired: string[] = [];
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
