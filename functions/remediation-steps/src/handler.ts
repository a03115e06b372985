/**
 * The remediation steps, one Lambda handler per Step Functions task (docs/architecture.md §8). Each step has its own entry
 * under entries/ that imports and constructs only the AWS client(s) its step calls, and each step function is bundled
 * from its own entry (serverless/functions/remediation-steps.yml), so a step's cold start loads only what it uses
 * (docs/performance.md). This module gathers them for the tests and the local runs.
 */
export { classify } from './entries/classify.js';
export { closeFinding } from './entries/close-finding.js';
export { deactivateCertificate } from './entries/deactivate-certificate.js';
export { fixPolicy } from './entries/fix-policy.js';
export { notify } from './entries/notify.js';
export { openTicket } from './entries/open-ticket.js';
export { quarantine } from './entries/quarantine.js';
export { revokeCertificate } from './entries/revoke-certificate.js';
export { rotateCertificate } from './entries/rotate-certificate.js';
