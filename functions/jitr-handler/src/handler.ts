import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHttpTransport } from '@cv/crypto/ocsp';
import {
  awsClientConfig,
  createLogger,
  createMetrics,
  type Env,
  eventHandler,
  type LambdaHandler,
  MetricUnit,
} from '@cv/runtime';
import { AwsIotControlPlane } from './adapters/iot.js';
import { DynamoDbIssuedCertificates } from './adapters/issued-certificates.js';
import { DynamoDbEcuRegistry } from './adapters/registry.js';
import { CaCertificates, RolePolicies } from './caches.js';
import { loadConfig } from './config.js';
import { parseJitrEvent } from './event.js';
import {
  type RegisterCertificateDeps,
  type RegistrationOutcome,
  registerCertificate,
} from './register-certificate.js';

/** One Lambda execution environment: its configuration, clients and caches, and its handler. */
export interface JitrContainer {
  readonly handler: LambdaHandler<unknown, RegistrationOutcome>;
  /** Control-plane calls made by this container (tests, bench). */
  readonly iot: AwsIotControlPlane;
}

/**
 * Builds one execution environment from `env`: what Lambda does once per container at cold
 * start. The module's own container (below) is the deployed one; the load harness builds one per
 * modelled container, so each has its own SDK clients (and adaptive-retry rate limiter), as in
 * Lambda.
 */
export function createContainer(env: Env): JitrContainer {
  const config = loadConfig(env);
  const logger = createLogger({ serviceName: 'jitr-handler', logLevel: env.LOG_LEVEL });
  const metrics = createMetrics({ serviceName: 'jitr-handler', namespace: 'cv-security', logger });

  // IoT control-plane limits are per account and low (10-20 TPS): adaptive retries, more attempts.
  const iotClient = new IoTClient(awsClientConfig({ region: config.region, maxAttempts: 5 }));
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig({ region: config.region })));

  const iot = new AwsIotControlPlane(iotClient, {
    attempts: 3,
    baseDelayMs: 250,
    maxDelayMs: 2_000,
    onRetry: (error, attempt) =>
      logger.warn('IoT call throttled, retrying', { attempt, error: (error as { name?: string }).name }),
  });

  const deps: RegisterCertificateDeps = {
    iot,
    registry: new DynamoDbEcuRegistry(dynamo, config.registryTable),
    issuedCertificates: new DynamoDbIssuedCertificates(dynamo, config.issuedCertificatesTable),
    region: config.region,
    accountId: config.accountId,
    policies: new RolePolicies({ prefix: config.policyPrefix }),
    caCertificates: new CaCertificates(iot, {
      ttlMs: config.caCacheTtlSeconds * 1000,
      maxEntries: 8,
      pinned:
        config.operationalCaCertificatePem === undefined
          ? undefined
          : { caCertificateId: config.operationalCaCertificateId, pem: config.operationalCaCertificatePem },
    }),
    operationalCaCertificateId: config.operationalCaCertificateId,
    ocsp: {
      allowedHosts: config.ocspAllowedHosts,
      fallbackUrl: config.ocspResponderUrl,
      transport: createHttpTransport({ headers: { 'user-agent': 'cv-security-jitr' } }),
      timeoutMs: config.ocspTimeoutMs,
      hashAlgorithm: config.ocspHashAlgorithm,
    },
    now: () => new Date(),
    log: (message, fields) => logger.info(message, fields),
  };

  const handler = eventHandler<unknown, RegistrationOutcome>(
    async (raw) => {
      const event = parseJitrEvent(raw);
      logger.appendKeys({ certificateId: event.certificateId });
      const outcome = await registerCertificate(event, deps);
      const metric = {
        activated: 'CertificateActivated',
        // A repeated event; `completedSteps` is empty when it made reads only.
        'already-active': 'CertificateAlreadyActive',
        revoked: 'CertificateRevoked',
        skipped: 'CertificateSkipped',
      } as const;
      metrics.addMetric(metric[outcome.outcome], MetricUnit.Count, 1);
      if (
        (outcome.outcome === 'activated' || outcome.outcome === 'already-active') &&
        outcome.retiredCertificateIds.length > 0
      ) {
        metrics.addMetric('CertificatesRetired', MetricUnit.Count, outcome.retiredCertificateIds.length);
      }
      return outcome;
    },
    { logger, metrics },
  );

  return { handler, iot };
}

// Cold start: configuration validated once; clients and caches live as long as the container.
const container = createContainer(process.env);

/** Invoked by the IoT rule on `$aws/events/certificates/registered/<caCertificateId>`. */
export const handler = container.handler;
/** Exposed for tests and the bench: control-plane calls made by this container. */
export const iot = container.iot;
