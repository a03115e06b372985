import { addSupplierCa, exportBundle, listSuppliers, retireSupplier } from '@cv/admin';
import { optionalString, type Route, strictObjectBody } from '../route.js';

/** The PEM as the body itself (`Content-Type: application/x-pem-file`), as `awscurl --data @ca.pem` sends it. */
const PEM_TYPE = /^application\/x-pem-file\s*(;|$)/i;

/**
 * A supplier CA's PEM is at most 16 KiB (the use case refuses more, as the CLI does for the file); the route takes a
 * body up to twice that so JSON escaping of a PEM near the limit still reaches the use case and gets its error.
 */
const SUPPLIER_CA_BODY_BYTES = 32 * 1024;

/**
 * Suppliers' attestation CAs (packages/admin/src/suppliers): the use cases of `cv-admin supplier
 * add|list|retire|bundle`, the same validation and errors. The CA comes as `{ "certificatePem": "..." }` or as the PEM body itself.
 */
export const SUPPLIER_ROUTES: readonly Route[] = [
  { method: 'GET', path: '/suppliers', run: (_req, deps) => listSuppliers(deps) },
  // The bundle the stage's attestationTrustBundle file must hold before a deployment (the deploy guard's fix).
  { method: 'GET', path: '/suppliers/bundle', run: (_req, deps) => exportBundle(deps) },
  {
    method: 'POST',
    path: '/suppliers/{supplierId}/cas',
    maxBodyBytes: SUPPLIER_CA_BODY_BYTES,
    run: (req, deps) => {
      const pem = PEM_TYPE.test(req.headers['content-type'] ?? '')
        ? (req.body ?? '')
        : (optionalString(
            strictObjectBody(req, ['certificatePem']),
            'certificatePem',
            'certificatePem must be the CA certificate as PEM text',
          ) ?? '');
      return addSupplierCa({ supplierId: req.params.supplierId ?? '', certificatePem: pem }, deps);
    },
  },
  {
    method: 'POST',
    path: '/suppliers/{supplierId}/retire',
    run: (req, deps) => {
      const caKeySha256 = optionalString(
        strictObjectBody(req, ['caKeySha256']),
        'caKeySha256',
        'the CA key must be 64 hex digits',
      );
      return retireSupplier({ supplierId: req.params.supplierId ?? '', caKeySha256 }, deps);
    },
  },
];
