import { type Commands, stringFlag } from '../command.js';
import { loadAdminConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { grantAccess } from './grant.js';
import { listAccess } from './list.js';
import { revokeAccess } from './revoke.js';
import { transferOwnership } from './transfer.js';

function exactly(args: readonly string[], n: number, usage: string): string[] {
  if (args.length !== n) throw new UsageError(`usage: cv-admin ${usage}`);
  return [...args];
}

/** `cv-admin access ...`: vehicle access (src/access). */
export const ACCESS_COMMANDS: Commands = {
  'access grant': {
    usage:
      'access grant <VIN> <userSub> --role owner|driver|fleet-operator [--commands a,b] [--valid-until ISO]   give a user access to a vehicle',
    options: { role: { type: 'string' }, commands: { type: 'string' }, 'valid-until': { type: 'string' } },
    async run(args, flags, io) {
      const [vin, userSub] = exactly(args, 2, 'access grant <VIN> <userSub> --role ROLE');
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      return grantAccess(
        {
          vin,
          userSub,
          role: stringFlag(flags, 'role'),
          commands: stringFlag(flags, 'commands'),
          validUntil: stringFlag(flags, 'valid-until'),
        },
        io.deps(config),
      );
    },
  },
  'access revoke': {
    usage: "access revoke <VIN> <userSub>   take a user's access to a vehicle away (at once)",
    async run(args, flags, io) {
      const [vin, userSub] = exactly(args, 2, 'access revoke <VIN> <userSub>');
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      return revokeAccess({ vin, userSub }, io.deps(config));
    },
  },
  'access transfer': {
    usage:
      'access transfer <VIN> --from <ownerSub> --to <buyerSub>   sell a car: the new owner replaces every user',
    options: { from: { type: 'string' }, to: { type: 'string' } },
    async run(args, flags, io) {
      const [vin] = exactly(args, 1, 'access transfer <VIN> --from SUB --to SUB');
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      return transferOwnership(
        { vin, from: stringFlag(flags, 'from'), to: stringFlag(flags, 'to') },
        io.deps(config),
      );
    },
  },
  'access list': {
    usage:
      "access list (--vin VIN | --user SUB [--limit N] [--cursor VIN])   who may command a vehicle, or a user's vehicles",
    options: {
      vin: { type: 'string' },
      user: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
    async run(args, flags, io) {
      exactly(args, 0, 'access list (--vin VIN | --user SUB)');
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      return listAccess(
        {
          vin: stringFlag(flags, 'vin'),
          userSub: stringFlag(flags, 'user'),
          limit: stringFlag(flags, 'limit'),
          cursor: stringFlag(flags, 'cursor'),
        },
        io.deps(config),
      );
    },
  },
};
