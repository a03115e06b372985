import type { AuditLogPort } from '../audit.js';
import { InvalidInputError, NotFoundError, RefusedError } from '../errors.js';
import { operatorAction } from '../operator-action.js';
import type { CallerPort, Clock, DeviceCertificatesPort, EcuRegistryPort, QuarantinePort } from '../ports.js';

const THING_NAME = /^([A-HJ-NPR-Z0-9]{17})_([A-Za-z0-9-]{1,40})$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface ReleaseInput {
  readonly thingName: string;
  /** Why (the investigation's reference); recorded with the release. */
  readonly reason?: string | undefined;
}

export interface ReleaseDeps {
  readonly registry: EcuRegistryPort;
  readonly quarantine: QuarantinePort;
  readonly certificates: DeviceCertificatesPort;
  readonly caller: CallerPort;
  readonly clock: Clock;
  readonly audit: AuditLogPort;
}

export type ReleaseResult =
  | {
      readonly outcome: 'released';
      readonly thingName: string;
      readonly releasedBy: string;
      readonly releasedAt: string;
      readonly activeCertificateIds: readonly string[];
    }
  | { readonly outcome: 'not-quarantined'; readonly thingName: string };

/** Validates the operator's input at the edge of the use case. */
export function parseReleaseInput(input: ReleaseInput): {
  thingName: string;
  ecuId: string;
  reason?: string;
} {
  const match = THING_NAME.exec(input.thingName);
  const ecuId = match?.[2];
  if (ecuId === undefined) throw new InvalidInputError('thingName', 'thing name must be <VIN>_<ecuId>');
  const reason = input.reason;
  if (reason !== undefined && (reason.length === 0 || reason.length > 512 || CONTROL.test(reason))) {
    throw new InvalidInputError('reason', 'reason must be 1 to 512 printable characters');
  }
  return { thingName: input.thingName, ecuId, ...(reason === undefined ? {} : { reason }) };
}

/**
 * Releases an ECU's thing from the quarantine thing group, after its investigation (docs/operations.md).
 * Refuses an ECU whose registry row is not `ACTIVE` (`ecu_not_active`: blocking does not touch its certificates, the
 * quarantine is what keeps them out), and refuses while it would let a copied key back in: a certificate the rotation retired is ACTIVE again
 * (`compromised_certificate_active`), or a re-enrolment rotation was requested and the ECU has not re-enrolled yet:
 * no ACTIVE certificate other than the retired ones (`not_reenrolled`). The release is recorded (who, when, why) on the
 * ECU's registry row before the thing leaves the group, so every effective release is on record; a re-run after a
 * partial failure completes it, and a re-run after success changes nothing (`not-quarantined`).
 *
 * @example
 * const result = await releaseFromQuarantine({ thingName: 'WVWZZZ1JZXW000001_TCU-1', reason: 'INC-42' }, deps);
 */
export async function releaseFromQuarantine(input: ReleaseInput, deps: ReleaseDeps): Promise<ReleaseResult> {
  const target = `thing:${THING_NAME.test(input.thingName) ? input.thingName : 'invalid'}`;
  return operatorAction<ReleaseResult>(deps, 'quarantine.release', target, async () => {
    const result = await release(input, deps);
    return { outcome: result.outcome === 'released' ? 'succeeded' : 'unchanged', result };
  });
}

async function release(input: ReleaseInput, deps: ReleaseDeps): Promise<ReleaseResult> {
  const { thingName, ecuId, reason } = parseReleaseInput(input);
  const row = await deps.registry.get(ecuId);
  if (row === undefined || row.thingName !== thingName || !thingName.startsWith(`${row.vin}_`)) {
    throw new NotFoundError(`no ECU registry row binds thing ${thingName}`);
  }
  if (!(await deps.quarantine.isQuarantined(thingName))) return { outcome: 'not-quarantined', thingName };
  if (row.status !== 'ACTIVE') {
    throw new RefusedError(
      'ecu_not_active',
      `ECU ${ecuId} is ${row.status || 'without status'}: unblock it first`,
    );
  }

  const certificates = await deps.certificates.certificatesOf(thingName);
  const retired = new Set(row.rotationRetiredCertificateIds);
  const active = certificates.filter((c) => c.status === 'ACTIVE').map((c) => c.certificateId);
  if (active.some((id) => retired.has(id))) {
    throw new RefusedError(
      'compromised_certificate_active',
      'a certificate the rotation retired is ACTIVE: revoke it before releasing',
    );
  }
  if (row.rotationMethod === 'reenrol' && active.length === 0) {
    throw new RefusedError(
      'not_reenrolled',
      `the ECU has not re-enrolled since the rotation requested at ${row.rotationRequestedAt ?? 'an unknown time'}`,
    );
  }

  const record = { by: await deps.caller.whoAmI(), at: deps.clock.now(), reason };
  if (!(await deps.registry.recordQuarantineRelease(ecuId, thingName, record))) {
    throw new NotFoundError(`the registry row of ECU ${ecuId} no longer binds thing ${thingName}`);
  }
  await deps.quarantine.release(thingName);
  return {
    outcome: 'released',
    thingName,
    releasedBy: record.by,
    releasedAt: record.at.toISOString(),
    activeCertificateIds: active,
  };
}
