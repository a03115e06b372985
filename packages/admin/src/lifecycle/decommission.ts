import type { AccessDeps } from '../access/grant.js';
import { vehicleTarget, vinOf } from '../access/input.js';
import { NotFoundError, RefusedError } from '../errors.js';
import { operatorAction } from '../operator-action.js';
import type { ActionRecord } from '../ports.js';
import { type LifecycleDeps, thingOf } from './block.js';
import { ecuIdOf, ecuTarget, reasonOf } from './input.js';
import type { CertificateAuthorityPort, LifecycleEcuRow } from './ports.js';

export interface DecommissionDeps extends LifecycleDeps {
  readonly ca: CertificateAuthorityPort;
}

export interface RetiredEcu {
  readonly ecuId: string;
  readonly outcome: 'decommissioned' | 'unchanged';
  readonly thingName: string;
  /** Certificates revoked at the Private CA by this run. */
  readonly revokedAtCa: readonly string[];
  /** Certificates this CA did not issue: set REVOKED in AWS IoT only. */
  readonly notIssuedByCa: readonly string[];
}

/**
 * Takes one ECU out of service, step by step, each step safe to repeat (the order makes a re-run after a failure at
 * any point complete the job):
 * 1. registry row `DECOMMISSIONED` (from then on cert-broker refuses it and jitr-handler activates nothing for it);
 * 2. the thing's certificate ids are remembered on the row (a re-run after step 4 still knows them);
 * 3. each certificate: `INACTIVE` in AWS IoT (it cannot connect from here on), revoked at the Private CA
 *    (`CESSATION_OF_OPERATION`), then `REVOKED` in AWS IoT (so `REVOKED` in IoT implies revoked at the CA);
 * 4. each certificate detached from the thing; 5. the thing deleted; 6. the row marked complete (`decommissionedAt`).
 */
export async function retireEcu(
  row: LifecycleEcuRow,
  record: ActionRecord,
  deps: DecommissionDeps,
): Promise<RetiredEcu> {
  const thingName = thingOf(row);
  if (row.status === 'DECOMMISSIONED' && row.decommissionedAt !== undefined) {
    return { ecuId: row.ecuId, outcome: 'unchanged', thingName, revokedAtCa: [], notIssuedByCa: [] };
  }
  if (row.status !== 'DECOMMISSIONED') {
    const moved = await deps.lifecycle.transition(row.ecuId, ['ACTIVE', 'BLOCKED'], 'DECOMMISSIONED', record);
    if (!moved) {
      const now = await deps.lifecycle.get(row.ecuId);
      if (now?.status !== 'DECOMMISSIONED')
        throw new RefusedError('ecu_changed', `ECU ${row.ecuId} changed: try again`);
    }
  }
  const attached = await deps.devices.principalsOf(thingName);
  if (attached.some((id) => !row.decommissionCertificateIds.includes(id))) {
    await deps.lifecycle.rememberCertificates(row.ecuId, attached);
  }
  const revokedAtCa: string[] = [];
  const notIssuedByCa: string[] = [];
  for (const certificateId of [...new Set([...row.decommissionCertificateIds, ...attached])]) {
    const certificate = await deps.devices.certificate(certificateId);
    if (certificate === undefined || certificate.status === 'REVOKED') continue;
    if (certificate.status === 'ACTIVE') await deps.devices.setCertificateStatus(certificateId, 'INACTIVE');
    const revoked = await deps.ca.revoke(certificate.serialHex);
    if (revoked === 'revoked') revokedAtCa.push(certificateId);
    if (revoked === 'not-issued') notIssuedByCa.push(certificateId);
    await deps.devices.setCertificateStatus(certificateId, 'REVOKED');
  }
  for (const certificateId of attached) await deps.devices.detach(thingName, certificateId);
  await deps.devices.deleteThing(thingName);
  await deps.lifecycle.completeDecommission(row.ecuId, record);
  return { ecuId: row.ecuId, outcome: 'decommissioned', thingName, revokedAtCa, notIssuedByCa };
}

export interface DecommissionEcuInput {
  readonly ecuId: unknown;
  readonly reason?: unknown;
}

/**
 * Decommissions one ECU: certificates deactivated in AWS IoT and revoked at Private CA, thing detached and deleted,
 * registry row `DECOMMISSIONED`; nothing is left that can connect or enrol. Safe to re-run after a partial failure
 * (it completes the job); a re-run after success is `unchanged`.
 *
 * @example await decommissionEcu({ ecuId: 'TCU-00042', reason: 'scrapped' }, deps);
 */
export async function decommissionEcu(
  input: DecommissionEcuInput,
  deps: DecommissionDeps,
): Promise<RetiredEcu> {
  return operatorAction<RetiredEcu>(deps, 'ecu.decommission', ecuTarget(input.ecuId), async () => {
    const ecuId = ecuIdOf(input.ecuId);
    const reason = reasonOf(input.reason);
    const row = await deps.lifecycle.get(ecuId);
    if (row === undefined) throw new NotFoundError(`no ECU registry row for ${ecuId}`);
    const record = { by: await deps.caller.whoAmI(), at: deps.clock.now(), reason };
    const retired = await retireEcu(row, record, deps);
    return {
      outcome: retired.outcome === 'decommissioned' ? 'succeeded' : 'unchanged',
      result: retired,
      detail: { revokedAtCa: retired.revokedAtCa.length, notIssuedByCa: retired.notIssuedByCa.length },
    };
  });
}

export interface DecommissionVehicleInput {
  readonly vin: unknown;
  readonly reason?: unknown;
}

export interface DecommissionVehicleResult {
  readonly outcome: 'decommissioned' | 'unchanged';
  readonly vin: string;
  readonly ecus: readonly RetiredEcu[];
  /** Users whose access to the vehicle was revoked. */
  readonly revokedUsers: readonly string[];
}

/**
 * Decommissions a whole vehicle: every ECU of the VIN as {@link decommissionEcu} does, then every user's access to
 * it (rows and ownership marker, one transaction). Safe to re-run after a partial failure.
 *
 * @example await decommissionVehicle({ vin: 'WVWZZZ1JZXW000001', reason: 'end of life' }, deps);
 */
export async function decommissionVehicle(
  input: DecommissionVehicleInput,
  deps: DecommissionDeps & Pick<AccessDeps, 'access'>,
): Promise<DecommissionVehicleResult> {
  return operatorAction<DecommissionVehicleResult>(
    deps,
    'vehicle.decommission',
    vehicleTarget(input.vin),
    async () => {
      const vin = vinOf(input.vin);
      const reason = reasonOf(input.reason);
      const rows = await deps.lifecycle.ecusOfVehicle(vin);
      const record = { by: await deps.caller.whoAmI(), at: deps.clock.now(), reason };
      const ecus: RetiredEcu[] = [];
      for (const row of rows) ecus.push(await retireEcu(row, record, deps));
      const marker = await deps.access.marker(vin);
      const revokedUsers = [...marker.grantees];
      if (marker.version > 0 && (marker.grantees.length > 0 || marker.owner !== undefined)) {
        const done = await deps.access.commit({
          vin,
          expectedVersion: marker.version,
          owner: undefined,
          grantees: [],
          put: [],
          remove: marker.grantees,
        });
        if (!done)
          throw new RefusedError(
            'concurrent_change',
            `vehicle ${vin} access changed concurrently: try again`,
          );
      }
      const changed = ecus.some((e) => e.outcome === 'decommissioned') || revokedUsers.length > 0;
      return {
        outcome: changed ? 'succeeded' : 'unchanged',
        result: { outcome: changed ? 'decommissioned' : 'unchanged', vin, ecus, revokedUsers },
        detail: { ecus: ecus.length, revokedUsers: revokedUsers.length },
      };
    },
  );
}
