/**
 * An in-memory world for the ECU lifecycle use cases: registry rows, things with their certificates and groups,
 * AWS IoT certificate statuses, the Private CA's revocations, vehicle access, and the audit trail, behind the same
 * ports as the AWS adapters, with "already gone is done" semantics. `failAt` injects a failure at the n-th mutating
 * call, before (`before`) or after (`after`, the change made but the answer lost) the change.
 */

import type { AccessChange, VehicleAccessPort, VehicleMarker } from '../src/access/ports.js';
import type { AdminAuditEntry } from '../src/audit.js';
import type { DecommissionDeps } from '../src/lifecycle/decommission.js';
import type { LifecycleEcuRow } from '../src/lifecycle/ports.js';

export interface Row {
  ecuId: string;
  vin: string;
  role: string;
  status: string;
  thingName?: string;
  decommissionCertificateIds: string[];
  decommissionedAt?: string;
  replacedBy?: string;
  replaces?: string;
  statusReason?: string;
}

export class World {
  rows = new Map<string, Row>();
  things = new Map<string, { certs: Set<string>; groups: Set<string> }>();
  certs = new Map<string, { status: string; serial: string }>();
  issuedByCa = new Set<string>();
  revokedAtCa = new Set<string>();
  markers = new Map<string, { owner?: string; grantees: string[]; version: number }>();
  access = new Map<string, { role: string }>();
  audit: AdminAuditEntry[] = [];
  mutations = 0;
  failAt = 0;
  failMode: 'before' | 'after' = 'before';
  log: string[] = [];

  /** An ECU with an enrolled thing and `certs` certificates (the first ACTIVE, the others INACTIVE). */
  ecu(
    vin: string,
    ecuId: string,
    role: string,
    opts: { certs?: number; status?: string; enrolled?: boolean } = {},
  ) {
    const thingName = `${vin}_${ecuId}`;
    const enrolled = opts.enrolled ?? true;
    this.rows.set(ecuId, {
      ecuId,
      vin,
      role,
      status: opts.status ?? 'ACTIVE',
      ...(enrolled ? { thingName } : {}),
      decommissionCertificateIds: [],
    });
    if (!enrolled) return thingName;
    const certs = new Set<string>();
    for (let i = 0; i < (opts.certs ?? 1); i++) {
      const id = `${ecuId.toLowerCase().replace(/[^a-z0-9]/g, '')}${i}`.padEnd(64, '0');
      const serial = `0A${String(this.certs.size + 1).padStart(6, '0')}`;
      this.certs.set(id, { status: i === 0 ? 'ACTIVE' : 'INACTIVE', serial });
      this.issuedByCa.add(serial);
      certs.add(id);
    }
    this.things.set(thingName, { certs, groups: new Set() });
    return thingName;
  }

  private async mutate<T>(name: string, change: () => T): Promise<T> {
    this.mutations += 1;
    if (this.mutations === this.failAt && this.failMode === 'before')
      throw new Error(`injected before ${name}`);
    const out = change();
    this.log.push(name);
    if (this.mutations === this.failAt && this.failMode === 'after')
      throw new Error(`injected after ${name}`);
    return out;
  }

  private view(row: Row): LifecycleEcuRow {
    return {
      ecuId: row.ecuId,
      vin: row.vin,
      role: row.role,
      status: row.status,
      thingName: row.thingName,
      decommissionCertificateIds: [...row.decommissionCertificateIds],
      decommissionedAt: row.decommissionedAt,
      replacedBy: row.replacedBy,
    };
  }

  deps(): DecommissionDeps & { access: VehicleAccessPort } {
    return {
      caller: { whoAmI: async () => 'arn:aws:iam::123456789012:user/operator' },
      clock: { now: () => new Date('2026-12-03T12:00:00.000Z') },
      audit: { record: async (entry) => void this.audit.push(entry) },
      lifecycle: {
        get: async (id) => {
          const row = this.rows.get(id);
          return row === undefined ? undefined : this.view(row);
        },
        ecusOfVehicle: async (vin) =>
          [...this.rows.values()].filter((r) => r.vin === vin).map((r) => this.view(r)),
        transition: (id, from, to, record) =>
          this.mutate(`transition ${id} ${to}`, () => {
            const row = this.rows.get(id);
            if (row === undefined || !from.includes(row.status)) return false;
            row.status = to;
            if (record.reason === undefined) delete row.statusReason;
            else row.statusReason = record.reason;
            return true;
          }),
        rememberCertificates: (id, ids) =>
          this.mutate(`remember ${id}`, () => {
            const row = this.rows.get(id);
            if (row)
              row.decommissionCertificateIds = [...new Set([...row.decommissionCertificateIds, ...ids])];
          }),
        completeDecommission: (id, record) =>
          this.mutate(`complete ${id}`, () => {
            const row = this.rows.get(id);
            if (row?.status !== 'DECOMMISSIONED') throw new Error('ConditionalCheckFailed');
            row.decommissionedAt = record.at.toISOString();
          }),
        recordReplacement: (oldId, newId) =>
          this.mutate(`replace ${oldId}`, () => {
            const old = this.rows.get(oldId);
            if (old === undefined || (old.replacedBy !== undefined && old.replacedBy !== newId)) return false;
            old.replacedBy = newId;
            const replacement = this.rows.get(newId);
            if (replacement) replacement.replaces = oldId;
            return true;
          }),
      },
      devices: {
        principalsOf: async (thing) => [...(this.things.get(thing)?.certs ?? [])],
        certificate: async (id) => {
          const c = this.certs.get(id);
          return c === undefined ? undefined : { certificateId: id, status: c.status, serialHex: c.serial };
        },
        setCertificateStatus: (id, status) =>
          this.mutate(`cert ${id.slice(0, 6)} ${status}`, () => {
            const c = this.certs.get(id);
            if (c === undefined) throw new Error('ResourceNotFoundException');
            c.status = status;
          }),
        detach: (thing, id) =>
          this.mutate(`detach ${id.slice(0, 6)}`, () => {
            this.things.get(thing)?.certs.delete(id);
          }),
        deleteThing: (thing) =>
          this.mutate(`delete ${thing}`, () => {
            const t = this.things.get(thing);
            if (t && t.certs.size > 0) throw new Error('DeleteConflictException');
            this.things.delete(thing);
          }),
        quarantine: (thing) =>
          this.mutate(`quarantine ${thing}`, () => {
            const t = this.things.get(thing);
            if (t === undefined) return false;
            t.groups.add('quarantine');
            return true;
          }),
        isQuarantined: async (thing) => this.things.get(thing)?.groups.has('quarantine') ?? false,
      },
      ca: {
        revoke: (serial) =>
          this.mutate(`pca revoke ${serial}`, () => {
            if (!this.issuedByCa.has(serial)) return 'not-issued' as const;
            if (this.revokedAtCa.has(serial)) return 'already' as const;
            this.revokedAtCa.add(serial);
            return 'revoked' as const;
          }),
      },
      access: {
        marker: async (vin): Promise<VehicleMarker> => {
          const m = this.markers.get(vin);
          return { vin, owner: m?.owner, grantees: [...(m?.grantees ?? [])], version: m?.version ?? 0 };
        },
        get: async () => undefined,
        listByUser: async () => ({ grants: [], cursor: undefined }),
        commit: (change: AccessChange) =>
          this.mutate(`access ${change.vin}`, () => {
            const m = this.markers.get(change.vin);
            if ((m?.version ?? 0) !== change.expectedVersion) return false;
            for (const sub of change.remove) this.access.delete(`${sub}|${change.vin}`);
            for (const g of change.put) this.access.set(`${g.userSub}|${change.vin}`, { role: g.role });
            this.markers.set(change.vin, {
              ...(change.owner === undefined ? {} : { owner: change.owner }),
              grantees: [...change.grantees],
              version: change.expectedVersion + 1,
            });
            return true;
          }),
      },
    };
  }

  /** The observable state (what a re-run must converge to), without counters and logs. */
  snapshot() {
    return {
      rows: [...this.rows.values()].map((r) => ({
        ...r,
        decommissionCertificateIds: [...r.decommissionCertificateIds].sort(),
      })),
      things: [...this.things.entries()].map(([k, t]) => [k, [...t.certs].sort(), [...t.groups].sort()]),
      certs: [...this.certs.entries()],
      revokedAtCa: [...this.revokedAtCa].sort(),
      markers: [...this.markers.entries()].map(([k, m]) => [k, m.owner, m.grantees]),
      access: [...this.access.keys()].sort(),
    };
  }
}
