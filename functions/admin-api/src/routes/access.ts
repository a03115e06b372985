import { grantAccess, listAccess, revokeAccess, transferOwnership } from '@cv/admin';
import { objectBody, type Route } from '../route.js';

/** Vehicle access (packages/admin/src/access). */
export const ACCESS_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/vehicles/{vin}/access',
    run: (req, deps) => listAccess({ vin: req.params.vin }, deps),
  },
  {
    method: 'PUT',
    path: '/vehicles/{vin}/access/{userSub}',
    run: (req, deps) => {
      const body = objectBody(req);
      return grantAccess(
        {
          vin: req.params.vin,
          userSub: req.params.userSub,
          role: body.role,
          commands: body.commands,
          validUntil: body.validUntil,
        },
        deps,
      );
    },
  },
  {
    method: 'DELETE',
    path: '/vehicles/{vin}/access/{userSub}',
    run: (req, deps) => revokeAccess({ vin: req.params.vin, userSub: req.params.userSub }, deps),
  },
  {
    method: 'POST',
    path: '/vehicles/{vin}/transfer',
    run: (req, deps) => {
      const body = objectBody(req);
      return transferOwnership({ vin: req.params.vin, from: body.from, to: body.to }, deps);
    },
  },
  {
    method: 'GET',
    path: '/users/{userSub}/access',
    run: (req, deps) =>
      listAccess({ userSub: req.params.userSub, limit: req.query.limit, cursor: req.query.cursor }, deps),
  },
];
