/**
 * The plan `classify` must make for each sample finding under events/remediation-steps/
 * (docs/architecture.md §8 playbook), shared by the in-process and the `serverless invoke local` sample-event
 * tests. The malformed-* samples are not here: they must be rejected.
 */
export interface ExpectedPlan {
  readonly kind: 'plan';
  readonly actions: string[];
  readonly skipped?: boolean;
}

const COMPROMISE = [
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
  'notify',
  'openTicket',
];
const AUTHZ = ['quarantine', 'deactivateCertificate', 'notify', 'openTicket'];
const plan = (actions: string[]): ExpectedPlan => ({ kind: 'plan', actions });
const skipped: ExpectedPlan = { kind: 'plan', actions: [], skipped: true };

export const SAMPLE_FINDING_PLANS: Readonly<Record<string, ExpectedPlan>> = {
  'audit-ca-certificate-expiring.json': plan(['notify', 'openTicket']),
  'audit-check-summary.json': skipped,
  'audit-conflicting-client-ids.json': plan(COMPROMISE),
  'audit-device-certificate-expiring.json': plan(['rotateCertificate', 'notify']),
  'audit-device-certificate-key-quality.json': plan(['rotateCertificate', 'notify']),
  'audit-device-certificate-shared.json': plan(COMPROMISE),
  'audit-iot-policy-overly-permissive.json': plan(['fixPolicy', 'notify', 'openTicket']),
  'audit-revoked-ca-certificate-still-active.json': plan(['notify', 'openTicket']),
  'audit-revoked-device-certificate-still-active.json': plan(['deactivateCertificate', 'notify']),
  'audit-suppressed.json': skipped,
  'audit-unknown-check.json': plan(['openTicket']),
  'detect-archived.json': skipped,
  'detect-authorization-failures.json': plan(AUTHZ),
  'own-authz-detector-finding.json': plan(AUTHZ),
  // No provenance record is seeded for behaviour-detector's samples: claimed as ours but unproven, they are refused
  // (notify only). Their genuine playbook rows are proven in remediation-steps' classify tests and
  // test/behaviour-findings.e2e.test.ts.
  'own-behaviour-cloned-identity.json': plan(['notify']),
  'own-behaviour-reconnect-loop.json': plan(['notify']),
};
