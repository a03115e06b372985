import type { Commands } from '../command.js';
import { stringFlag } from '../command.js';
import { loadAdminConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { listAudit } from './list.js';

export const AUDIT_COMMANDS: Commands = {
  'audit list': {
    usage:
      'audit list [--target T | --actor ARN] [--since ISO] [--until ISO] [--limit N]   the admin audit trail, newest first',
    options: {
      target: { type: 'string' },
      actor: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
    },
    async run(args, flags, io) {
      if (args.length > 0) throw new UsageError('audit list takes no positional arguments');
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      return listAudit(
        {
          target: stringFlag(flags, 'target'),
          actor: stringFlag(flags, 'actor'),
          since: stringFlag(flags, 'since'),
          until: stringFlag(flags, 'until'),
          limit: stringFlag(flags, 'limit'),
        },
        io.deps(config),
      );
    },
  },
};
