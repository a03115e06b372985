'use strict';

/**
 * A deployment must not undo what `cv-admin supplier add|retire` did. The stack writes the attestation trust
 * bundle it is given (the `attestationTrustBundle` parameter) to the truststore object and the SSM parameter;
 * cv-admin changes both at run time and records each CA it manages in the suppliers table. So before a
 * deployment the bundle to deploy is compared with that table (the same rule as @cv/admin's renderBundle):
 * - a CA the table has ACTIVE must be in the bundle (else the deployment would drop an onboarded supplier);
 * - a CA the table has RETIRED must not be (else the deployment would trust a retired supplier again).
 * CAs the table does not manage (those the stack was first deployed with) are the parameter's to add or drop.
 * Matching is by the SHA-256 of the CA's SubjectPublicKeyInfo (the table's `caKeySha256`).
 */
const { createHash } = require('node:crypto');
const { parsePemBundle } = require('./preflight-checks.cjs');

const spkiSha256 = (certificate) =>
  createHash('sha256')
    .update(certificate.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');

/**
 * The suppliers table's CA items (DynamoDB JSON, as Scan returns them) that mark a CA ACTIVE or RETIRED; the
 * lease item and anything else without such a status is not a CA.
 */
function supplierCas(items) {
  const cas = [];
  for (const item of items ?? []) {
    const status = item?.status?.S;
    if (status !== 'ACTIVE' && status !== 'RETIRED') continue;
    const caKeySha256 = item?.caKeySha256?.S;
    const supplierId = item?.supplierId?.S;
    if (typeof caKeySha256 !== 'string' || typeof supplierId !== 'string') continue;
    cas.push({ supplierId, caKeySha256, status });
  }
  return cas;
}

/**
 * What deploying `bundleText` would undo, as preflight problems (empty: nothing).
 *
 * @param {string} bundleText the PEM bundle the template deploys
 * @param {{ supplierId: string, caKeySha256: string, status: 'ACTIVE' | 'RETIRED' }[]} cas the suppliers table
 * @param {{ stage: string }} context
 * @example
 * const problems = trustBundleDrift(body, supplierCas(scanItems), { stage: 'prod' });
 */
function trustBundleDrift(bundleText, cas, context) {
  const inBundle = new Set(parsePemBundle(bundleText).map(spkiSha256));
  const dropped = cas.filter((c) => c.status === 'ACTIVE' && !inBundle.has(c.caKeySha256));
  const revived = cas.filter((c) => c.status === 'RETIRED' && inBundle.has(c.caKeySha256));
  const name = (c) => `${c.supplierId} (CA key ${c.caKeySha256.slice(0, 16)}…)`;
  const fix = `write the bundle cv-admin published to the file the parameter names: \`cv-admin supplier bundle --stage ${context.stage} --out <that file>\`, review the change, and deploy again`;
  const problems = [];
  if (dropped.length > 0) {
    problems.push({
      param: 'attestationTrustBundle',
      problem: `lacks ${dropped.length} CA(s) onboarded with cv-admin since it was written: ${dropped.map(name).join(', ')}; deploying would stop their ECUs enrolling`,
      fix,
    });
  }
  if (revived.length > 0) {
    problems.push({
      param: 'attestationTrustBundle',
      problem: `still holds ${revived.length} CA(s) retired with cv-admin: ${revived.map(name).join(', ')}; deploying would trust them again`,
      fix,
    });
  }
  return problems;
}

module.exports = { trustBundleDrift, supplierCas, spkiSha256 };
