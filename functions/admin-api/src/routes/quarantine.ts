import { InvalidInputError, releaseFromQuarantine } from '@cv/admin';
import { objectBody, type Route } from '../route.js';

/** Quarantine release (packages/admin/src/quarantine). */
export const QUARANTINE_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/things/{thingName}/quarantine-release',
    run: (req, deps) => {
      const { reason } = objectBody(req);
      if (reason !== undefined && typeof reason !== 'string')
        throw new InvalidInputError('reason', 'reason must be a string');
      return releaseFromQuarantine(
        {
          thingName: req.params.thingName ?? '',
          reason: typeof reason === 'string' ? reason : undefined,
        },
        deps,
      );
    },
  },
];
