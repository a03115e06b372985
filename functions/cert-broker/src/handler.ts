import { randomUUID } from 'node:crypto';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig, createLogger, createMetrics, httpHandler, MetricUnit } from '@cv/runtime';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DynamoDbIssuedCertificates } from './adapters/issued-certificates.js';
import { PcaCertificateAuthority } from './adapters/pca.js';
import { DynamoDbEcuRegistry } from './adapters/registry.js';
import { DynamoDbReplayLedger } from './adapters/replay-ledger.js';
import { SsmTrustBundle, StaticTrustBundle } from './adapters/trust-bundle.js';
import { loadConfig } from './config.js';
import { rejectionReasonOf, toHttpError } from './http.js';
import { type IssueCertificateDeps, issueCertificate } from './issue-certificate.js';
import { MAX_BODY_BYTES, parseCertificateRequest } from './request.js';

// Cold start: configuration validated once, clients and caches at module scope.
const config = loadConfig(process.env);
const logger = createLogger({ serviceName: 'cert-broker', logLevel: process.env.LOG_LEVEL });
const metrics = createMetrics({ serviceName: 'cert-broker', namespace: 'cv-security', logger });
const clientConfig = awsClientConfig({ region: process.env.AWS_REGION });

const pca = new ACMPCAClient(clientConfig);
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig));

const deps: IssueCertificateDeps = {
  registry: new DynamoDbEcuRegistry(dynamo, config.registryTable, config.retryAfterSeconds),
  ledger: new DynamoDbReplayLedger(dynamo, config.replayLedgerTable, config.retryAfterSeconds),
  // Longer than the function's 28 s timeout (serverless/functions/cert-lifecycle.yml): a lease
  // outlives the invocation that holds it, never the other way round.
  leaseMs: 30_000,
  ledgerRetentionSeconds: config.replayLedgerRetentionSeconds,
  newLeaseOwner: () => randomUUID(),
  issuedCertificates: new DynamoDbIssuedCertificates(dynamo, config.issuedCertificatesTable),
  onIssuedRecordFailure: (certificateId, error) => {
    metrics.addMetric('IssuedCertificateRecordFailed', MetricUnit.Count, 1);
    logger.warn('issued-certificate record not written; jitr-handler will describe the certificate', {
      certificateId,
      error: (error as { name?: string }).name,
    });
  },
  ca: new PcaCertificateAuthority(pca, {
    caArn: config.pcaCaArn,
    templateArn: config.pcaTemplateArn,
    signingAlgorithm: config.pcaSigningAlgorithm,
    maxWaitSeconds: config.pcaMaxWaitSeconds,
    retryAfterSeconds: config.retryAfterSeconds,
  }),
  trustBundle:
    'pem' in config.trustBundle
      ? new StaticTrustBundle(config.trustBundle.pem)
      : new SsmTrustBundle(new SSMClient(clientConfig), config.trustBundle.parameterName, {
          ttlMs: config.trustBundleTtlSeconds * 1000,
          maxStaleMs: Math.max(config.trustBundleTtlSeconds * 1000 * 12, 3_600_000),
        }),
  validityDays: config.certValidityDays,
  now: () => new Date(),
};

/** `POST /certificates` (HTTP API, payload 2.0, behind a mutual-TLS custom domain). */
export const handler = httpHandler<APIGatewayProxyEventV2>(
  async (request) => {
    try {
      const body = parseCertificateRequest(request.body);
      const clientCertPem = request.event.requestContext.authentication?.clientCert?.clientCertPem;
      const result = await issueCertificate(
        {
          csrPem: body.csr,
          attestation: body.attestation && {
            certificatePem: body.attestation.certificate,
            signedAt: body.attestation.signedAt,
            signature: body.attestation.signature,
          },
          clientCertPem: clientCertPem || undefined,
        },
        deps,
      );
      metrics.addMetric(
        result.replayed ? 'CertificateReplayAnswered' : 'CertificateIssued',
        MetricUnit.Count,
        1,
      );
      logger.info(
        result.replayed ? 'used proof: certificate already issued returned' : 'certificate issued',
        {
          ecuId: result.ecuId,
          thingName: result.thingName,
          serialNumber: result.serialNumber,
          notAfter: result.notAfter,
          proofOfPossession: result.proofOfPossession,
        },
      );
      return {
        statusCode: 201,
        body: {
          thingName: result.thingName,
          certificatePem: result.certificatePem,
          certificateChainPem: result.certificateChainPem,
          serialNumber: result.serialNumber,
          notAfter: result.notAfter,
        },
      };
    } catch (error) {
      metrics.addMetric('CertificateRejected', MetricUnit.Count, 1);
      const rejection = rejectionReasonOf(error);
      // The internal reason and failing check, at INFO: the response carries only the public code.
      if (rejection !== undefined) logger.info('certificate request rejected', { ...rejection });
      throw toHttpError(error);
    }
  },
  // The runtime refuses anything past 64 KiB before parsing; parseCertificateRequest enforces the
  // 16 KiB contract itself, so that rejection is logged with its reason like every other.
  { logger, metrics, maxBodyBytes: 4 * MAX_BODY_BYTES },
);
