import { blockEcu, decommissionEcu, decommissionVehicle, replaceEcu, unblockEcu } from '@cv/admin';
import { objectBody, type Route } from '../route.js';

/** The ECU lifecycle (packages/admin/src/lifecycle). */
export const LIFECYCLE_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/ecus/{ecuId}/block',
    run: (req, deps) => blockEcu({ ecuId: req.params.ecuId, reason: objectBody(req).reason }, deps),
  },
  {
    method: 'POST',
    path: '/ecus/{ecuId}/unblock',
    run: (req, deps) => unblockEcu({ ecuId: req.params.ecuId, reason: objectBody(req).reason }, deps),
  },
  {
    method: 'POST',
    path: '/vehicles/{vin}/ecus/{ecuId}/replace',
    run: (req, deps) => {
      const body = objectBody(req);
      return replaceEcu(
        { vin: req.params.vin, ecuId: req.params.ecuId, newEcuId: body.newEcuId, reason: body.reason },
        deps,
      );
    },
  },
  {
    method: 'POST',
    path: '/ecus/{ecuId}/decommission',
    run: (req, deps) => decommissionEcu({ ecuId: req.params.ecuId, reason: objectBody(req).reason }, deps),
  },
  {
    method: 'POST',
    path: '/vehicles/{vin}/decommission',
    run: (req, deps) => decommissionVehicle({ vin: req.params.vin, reason: objectBody(req).reason }, deps),
  },
];
