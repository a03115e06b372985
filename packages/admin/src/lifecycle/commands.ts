import { type Commands, type Flags, stringFlag } from '../command.js';
import { loadAdminConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { blockEcu, unblockEcu } from './block.js';
import { decommissionEcu, decommissionVehicle } from './decommission.js';
import { replaceEcu } from './replace.js';

function one(args: readonly string[], usage: string): string {
  const [value, ...extra] = args;
  if (value === undefined || extra.length > 0) throw new UsageError(`usage: cv-admin ${usage}`);
  return value;
}
const reason = (flags: Flags) => stringFlag(flags, 'reason');

/** `cv-admin ecu ...` and `cv-admin vehicle decommission`: the ECU lifecycle (src/lifecycle). */
export const LIFECYCLE_COMMANDS: Commands = {
  'ecu block': {
    usage: 'ecu block <ecuId> [--reason TEXT]   BLOCKED in the registry, its thing quarantined',
    options: { reason: { type: 'string' } },
    async run(args, flags, io) {
      const ecuId = one(args, 'ecu block <ecuId>');
      const deps = io.deps(loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') }));
      return blockEcu({ ecuId, reason: reason(flags) }, deps);
    },
  },
  'ecu unblock': {
    usage:
      'ecu unblock <ecuId> [--reason TEXT]   ACTIVE again (then `quarantine release` after the investigation)',
    options: { reason: { type: 'string' } },
    async run(args, flags, io) {
      const ecuId = one(args, 'ecu unblock <ecuId>');
      const deps = io.deps(loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') }));
      return unblockEcu({ ecuId, reason: reason(flags) }, deps);
    },
  },
  'ecu replace': {
    usage:
      'ecu replace <ecuId> --vin VIN --with <newEcuId> [--reason TEXT]   new ECU for the same role, old one decommissioned',
    options: { vin: { type: 'string' }, with: { type: 'string' }, reason: { type: 'string' } },
    async run(args, flags, io) {
      const ecuId = one(args, 'ecu replace <ecuId> --vin VIN --with <newEcuId>');
      const deps = io.deps(loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') }));
      return replaceEcu(
        { vin: stringFlag(flags, 'vin'), ecuId, newEcuId: stringFlag(flags, 'with'), reason: reason(flags) },
        deps,
      );
    },
  },
  'ecu decommission': {
    usage:
      'ecu decommission <ecuId> [--reason TEXT]   certificates revoked, thing deleted, row DECOMMISSIONED',
    options: { reason: { type: 'string' } },
    async run(args, flags, io) {
      const ecuId = one(args, 'ecu decommission <ecuId>');
      const deps = io.deps(loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') }));
      return decommissionEcu({ ecuId, reason: reason(flags) }, deps);
    },
  },
  'vehicle decommission': {
    usage:
      "vehicle decommission <VIN> [--reason TEXT]   every ECU decommissioned, every user's access revoked",
    options: { reason: { type: 'string' } },
    async run(args, flags, io) {
      const vin = one(args, 'vehicle decommission <VIN>');
      const deps = io.deps(loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') }));
      return decommissionVehicle({ vin, reason: reason(flags) }, deps);
    },
  },
};
