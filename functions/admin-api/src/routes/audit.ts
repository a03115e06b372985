import { listAudit } from '@cv/admin';
import type { Route } from '../route.js';

/** The audit trail (packages/admin/src/audit): the same query as `cv-admin audit list`. */
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
