import type { Route } from '../route.js';
import { ACCESS_ROUTES } from './access.js';
import { AUDIT_ROUTES } from './audit.js';
import { LIFECYCLE_ROUTES } from './lifecycle.js';
import { MANIFEST_ROUTES } from './manifests.js';
import { QUARANTINE_ROUTES } from './quarantine.js';
import { SUPPLIER_ROUTES } from './suppliers.js';

/** Every route of the admin API; each area keeps its routes in its own file under src/routes/. */
export const ROUTES: readonly Route[] = [
  ...ACCESS_ROUTES,
  ...AUDIT_ROUTES,
  ...LIFECYCLE_ROUTES,
  ...MANIFEST_ROUTES,
  ...QUARANTINE_ROUTES,
  ...SUPPLIER_ROUTES,
];
