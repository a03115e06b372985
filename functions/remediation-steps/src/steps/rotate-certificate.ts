import { MissingTargetError } from '../errors.js';
import type { Plan, StepResult } from '../plan.js';
import type { Clock, IotPort, RegistryPort, RotationMethod } from '../ports.js';
import {
  certificatesSeenByDeactivate,
  deviceTargets,
  findingDigest,
  result,
  type StepInput,
  thingsSeenByQuarantine,
} from './common.js';

export interface RotateCertificateDeps {
  iot: Pick<IotPort, 'thingsForCertificate' | 'certificatesForThing' | 'createJob'>;
  registry: RegistryPort;
  clock: Clock;
}

/** The job document the ECU firmware acts on (docs/protocol.md): re-enroll through cert-broker. */
export const ROTATION_JOB_DOCUMENT = JSON.stringify({ operation: 'cv.rotate-certificate' });

/** Job id derived from the finding, so a retried step finds its own job instead of creating a second one. */
export function rotationJobId(findingId: string): string {
  return `cv-rotate-${findingDigest(findingId)}`;
}

/**
 * How the rotation reaches the ECU. `reenrol` when the plan takes the certificate out of service (deactivate or
 * revoke): the ECU can no longer connect, so a job would never be delivered (and a queued one would fire a needless
 * second rotation after the quarantine is released); the ECU re-enrols with its attestation key when its certificate
 * is refused (docs/protocol.md), which an attacker holding only the copied operational key cannot do. `job` otherwise
 * (expiring certificate, weak key): the ECU is still connected and receives an AWS IoT job.
 */
export function rotationMethod(plan: Plan): RotationMethod {
  return plan.actions.includes('deactivateCertificate') || plan.actions.includes('revokeCertificate')
    ? 'reenrol'
    : 'job';
}

/**
 * Rotates the ECU's certificate. Job path: an AWS IoT job (deterministic id; "already exists" is success) targeting
 * the thing. Re-enrolment path: no job; the things are those the quarantine step of this execution found (a
 * re-enrolment may already have detached the old certificate from its thing). Both mark the registry row
 * (`rotationRequestedAt`, `rotationJobId`, `rotationMethod`, and for re-enrolment the certificates it retires), so an
 * operator's release can check that the ECU re-enrolled.
 */
export async function rotateCertificate(input: StepInput, deps: RotateCertificateDeps): Promise<StepResult> {
  const { plan } = input;
  if (plan.thingName === undefined && plan.certificateId === undefined) {
    throw new MissingTargetError('rotateCertificate', 'a thing name or a certificate id');
  }
  const method = rotationMethod(plan);
  const things =
    (method === 'reenrol' ? thingsSeenByQuarantine(input.results) : undefined) ??
    (await deviceTargets(plan, deps.iot, { things: true })).things;
  const jobId = rotationJobId(plan.findingId);
  if (things.length === 0) {
    return result(
      'rotateCertificate',
      'unchanged',
      'no thing is attached to the certificate; nothing to rotate',
      {
        jobId,
        method,
      },
    );
  }
  const retiredCertificateIds =
    method === 'reenrol'
      ? (certificatesSeenByDeactivate(input.results) ??
        (plan.certificateId === undefined ? [] : [plan.certificateId]))
      : [];
  const job =
    method === 'job'
      ? await deps.iot.createJob({
          jobId,
          thingNames: things,
          document: ROTATION_JOB_DOCUMENT,
          description: `Certificate rotation for ${plan.check}`.slice(0, 2028),
        })
      : 'none';
  const now = deps.clock.now();
  const marks: Record<string, string> = {};
  for (const thing of things) {
    marks[thing] = await deps.registry.markRotationRequested(
      thing,
      { rotationId: jobId, method, retiredCertificateIds },
      now,
    );
  }
  const marked = Object.entries(marks)
    .filter(([, m]) => m === 'marked')
    .map(([t]) => t);
  const missing = Object.entries(marks)
    .filter(([, m]) => m === 'missing')
    .map(([t]) => t);
  const data = { jobId, method, things, marked, notInRegistry: missing };
  const missingNote = missing.length > 0 ? `; no registry row for ${missing.join(', ')}` : '';
  const what =
    method === 'job'
      ? `job ${jobId}`
      : `re-enrolment (no job: the certificate is refused, the ECU re-enrols with its attestation)`;
  if (job !== 'created' && marked.length === 0) {
    return result('rotateCertificate', 'unchanged', `${what} already requested${missingNote}`, data);
  }
  return result('rotateCertificate', 'changed', `${what} for ${things.join(', ')}${missingNote}`, data);
}
