import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientConfig, createLogger, createMetrics, eventHandler, MetricUnit } from '@cv/runtime';
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { getAccessRow } from './adapters/access-table.js';
import { type AuthorizeDeps, authorize } from './authorize.js';
import { loadConfig } from './config.js';

const config = loadConfig(process.env);
/** The error message API Gateway maps to 401 for a Lambda authorizer. */
const UNAUTHORIZED = 'Unauthorized';
const logger = createLogger({ serviceName: 'command-authorizer', logLevel: config.logLevel });
const metrics = createMetrics({ serviceName: 'command-authorizer' });

/**
 * Module scope: the JWKS is fetched once and cached across invocations of this container.
 * Exported so tests can hand it a JWKS (`verifier.cacheJwks(jwks)`) instead of the network.
 */
export const verifier = CognitoJwtVerifier.create(
  {
    userPoolId: config.userPoolId,
    tokenUse: 'access',
    clientId: config.clientIds,
    scope: config.scope,
  },
  config.jwksUri === undefined ? undefined : { jwksCache: loopbackJwksCache(config.jwksUri) },
);
/**
 * The local cloud's issuer (stage local only; loadConfig accepts nothing but a loopback URL): the
 * JWKS is fetched from there, while the issuer, client id, scope and signature checks stay Cognito's.
 */
function loopbackJwksCache(uri: string): SimpleJwksCache {
  return new SimpleJwksCache({
    fetcher: {
      fetch: async () => {
        const response = await fetch(uri, { signal: AbortSignal.timeout(3000) });
        if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
        return response.arrayBuffer();
      },
    },
  });
}
const doc = DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig()));

const deps: AuthorizeDeps = {
  verifyAccessToken: async (token) => {
    const payload = await verifier.verify(token);
    return { sub: payload.sub, exp: payload.exp };
  },
  accessRow: (sub, vin) => getAccessRow(doc, config.accessTable, sub, vin),
  now: Date.now,
};

/**
 * API Gateway REST API REQUEST authorizer. Token or lookup failures throw `Unauthorized`
 * (401); a valid user without vehicles gets a Deny (403). The reason is logged, never returned.
 */
export const handler = eventHandler<APIGatewayRequestAuthorizerEvent, APIGatewayAuthorizerResult>(
  async (event) => {
    const outcome = await authorize(event, deps);
    metrics.addMetric(`Authorizer${outcome.effect}`, MetricUnit.Count, 1);
    if (outcome.effect === 'Unauthorized') {
      logger.warn('request unauthorized', { reason: outcome.reason });
      throw new Error(UNAUTHORIZED);
    }
    if (outcome.effect === 'Deny') {
      logger.info('request denied', { reason: outcome.reason, sub: outcome.result.principalId });
      return outcome.result;
    }
    logger.info('request allowed', { sub: outcome.result.principalId, vin: outcome.vin });
    return outcome.result;
  },
  // API Gateway's 401, a designed answer: logged above as WARN with the reason, not as a failure.
  { logger, metrics, expected: (error) => error instanceof Error && error.message === UNAUTHORIZED },
);
