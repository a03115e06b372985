/**
 * The fresh events the local cloud writes (demo/fleet/src/local-events.ts), in the order
 * test/invoke-local.test.ts runs them through `serverless invoke local --stage local`.
 */
import { expect } from 'vitest';
import type { Counts, Expected } from './local-cloud-cli.js';

export const AUTHZ_PLAN = ['quarantine', 'deactivateCertificate', 'notify', 'openTicket'];
const deny = (effect: string) =>
  expect.objectContaining({
    policyDocument: expect.objectContaining({ Statement: [expect.objectContaining({ Effect: effect })] }),
  });

/**
 * The fresh events, in the order they run, with what each prints and exactly which counters of
 * the local cloud it moves (every other one must stay: a denial stores, issues, publishes nothing).
 */
export const FRESH: { event: string; expected: Expected; moves: Counts }[] = [
  // 20 failures of a real certificate in 300 s: the deployed threshold (the committed sample stays below it).
  {
    event: 'authz-detector/authorization-failures-over-threshold.json',
    expected: { kind: 'returns', value: undefined },
    moves: { findings: 1, provenanceRows: 1 },
  },
  {
    event: 'cert-broker/denied-attestation-stale.json',
    expected: { kind: 'http', status: 403, code: 'attestation_not_trusted' },
    moves: {},
  },
  {
    event: 'cert-broker/denied-unregistered-ecu.json',
    expected: { kind: 'http', status: 403, code: 'ecu_not_allowed' },
    moves: {},
  },
  {
    event: 'cert-broker/post-certificates-attestation.json',
    expected: { kind: 'http', status: 201 },
    moves: { pcaIssued: 1 },
  },
  {
    event: 'cert-broker/post-certificates-mtls.json',
    expected: { kind: 'http', status: 201 },
    moves: { pcaIssued: 1 },
  },
  {
    event: 'command-authorizer/denied-expired-token.json',
    expected: { kind: 'denied', message: 'Unauthorized' },
    moves: {},
  },
  {
    event: 'command-authorizer/denied-no-vehicles.json',
    expected: { kind: 'returns', value: deny('Deny') },
    moves: {},
  },
  {
    event: 'command-authorizer/request.json',
    expected: { kind: 'returns', value: deny('Allow') },
    moves: {},
  },
  {
    event: 'command-sender/denied-other-vehicle.json',
    expected: { kind: 'http', status: 403, code: 'command_not_allowed' },
    moves: {},
  },
  { event: 'command-sender/get-command.json', expected: { kind: 'http', status: 200 }, moves: {} },
  // The command row and its idempotency record; published to the ECU's command topic.
  {
    event: 'command-sender/post-command.json',
    expected: { kind: 'http', status: 202 },
    moves: { published: 1, commandRows: 2 },
  },
  {
    event: 'jitr-handler/certificate-registered.json',
    expected: { kind: 'returns', value: expect.objectContaining({ outcome: 'activated' }) },
    moves: { active: 1, pending: -1 },
  },
  {
    event: 'remediation-steps/finding-imported.json',
    expected: { kind: 'plan', actions: AUTHZ_PLAN },
    moves: {},
  },
  {
    event: 'telemetry-ingest/denied-other-thing.json',
    expected: { kind: 'dropped', reason: 'context-mismatch', count: 1, value: undefined },
    moves: {},
  },
  {
    event: 'telemetry-ingest/iot-telemetry.json',
    expected: { kind: 'stored', count: 1, value: undefined },
    moves: { telemetryRows: 1 },
  },
  {
    event: 'telemetry-ingest/iot-command-result.json',
    expected: { kind: 'stored', count: 1, value: undefined },
    moves: { telemetryRows: 1 },
  },
  {
    event: 'telemetry-ingest/sqs-batch.json',
    expected: { kind: 'stored', count: 2, value: { batchItemFailures: [] } },
    moves: { telemetryRows: 2 },
  },
];
