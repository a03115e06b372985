import { listAudit } from '@cv/admin';
import type { Route } from '../route.js';

/** The audit trail, read back (packages/admin/src/audit): by target, by actor, or by time window. */
export const AUDIT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/audit',
    run: (req, deps) =>
      listAudit(
        {
          target: req.query.target,
          actor: req.query.actor,
          since: req.query.since,
          until: req.query.until,
          limit: req.query.limit,
        },
        deps,
      ),
  },
];
