import { MissingTargetError } from '../errors.js';
import type { StepResult } from '../plan.js';
import type { Clock, IotPort, RegistryPort } from '../ports.js';
import { deviceTargets, findingDigest, result, type StepInput } from './common.js';

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
 * Asks the ECU to re-enroll: an AWS IoT job (deterministic id; "already exists" is success) targeting the thing,
 * and `rotationRequestedAt`/`rotationJobId` on its registry row.
 */
export async function rotateCertificate(input: StepInput, deps: RotateCertificateDeps): Promise<StepResult> {
  const { plan } = input;
  if (plan.thingName === undefined && plan.certificateId === undefined) {
    throw new MissingTargetError('rotateCertificate', 'a thing name or a certificate id');
  }
  const { things } = await deviceTargets(plan, deps.iot, { things: true });
  const jobId = rotationJobId(plan.findingId);
  if (things.length === 0) {
    return result(
      'rotateCertificate',
      'unchanged',
      'no thing is attached to the certificate; no job created',
      {
        jobId,
      },
    );
  }
  const job = await deps.iot.createJob({
    jobId,
    thingNames: things,
    document: ROTATION_JOB_DOCUMENT,
    description: `Certificate rotation for ${plan.check}`.slice(0, 2028),
  });
  const now = deps.clock.now();
  const marks: Record<string, string> = {};
  for (const thing of things) marks[thing] = await deps.registry.markRotationRequested(thing, jobId, now);
  const marked = Object.entries(marks)
    .filter(([, m]) => m === 'marked')
    .map(([t]) => t);
  const missing = Object.entries(marks)
    .filter(([, m]) => m === 'missing')
    .map(([t]) => t);
  const data = { jobId, things, marked, notInRegistry: missing };
  const missingNote = missing.length > 0 ? `; no registry row for ${missing.join(', ')}` : '';
  if (job === 'exists' && marked.length === 0) {
    return result('rotateCertificate', 'unchanged', `job ${jobId} already requested${missingNote}`, data);
  }
  return result('rotateCertificate', 'changed', `job ${jobId} for ${things.join(', ')}${missingNote}`, data);
}
