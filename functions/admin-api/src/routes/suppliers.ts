import { addSupplierCa, listAudit, listSuppliers, retireSupplier } from '@cv/admin';
import { objectBody, type Route } from '../route.js';

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const optional = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Suppliers' attestation CAs (packages/admin/src/suppliers) and the audit trail (packages/admin/src/audit). The
 * manifest import is CLI-only: a factory manifest of a million rows is streamed from a file, which a 16 KiB request
 * body and API Gateway's 29 s do not allow.
 */
export const SUPPLIER_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/suppliers', run: (_req, deps) => listSuppliers(deps) },
  {
    method: 'POST',
    path: '/suppliers/{supplierId}/cas',
    run: (req, deps) =>
      addSupplierCa(
        { supplierId: req.params.supplierId ?? '', certificatePem: text(objectBody(req).certificatePem) },
        deps,
      ),
  },
  {
    method: 'POST',
    path: '/suppliers/{supplierId}/retire',
    run: (req, deps) =>
      retireSupplier(
        { supplierId: req.params.supplierId ?? '', caKeySha256: optional(objectBody(req).caKeySha256) },
        deps,
      ),
  },
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
