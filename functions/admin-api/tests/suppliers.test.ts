/**
 * The admin API's supplier and audit routes through the Lambda handler against the local cloud (DynamoDB, SSM, S3,
 * API Gateway v2): the same use cases, validation and errors as `cv-admin supplier ...` and `cv-admin audit list`,
 * the SigV4 caller as the audit actor, a refusal (409) that leaves the three trust places untouched.
 */

import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables, LocalCloud, x509 } from '@cv/local-cloud';
import { lambdaContext } from '@cv/test-support';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const STAGE = 'adminsup';
const CALLER = 'arn:aws:sts::111122223333:assumed-role/cv-backoffice/backoffice';
const PARAM = `/cv-security/${STAGE}/attestation-trust-bundle`;
const DOMAIN = `certs.${STAGE}.cv.example.com`;
const BUCKET = 'cv-security-adminsup-truststorebucket-abc123';
const KEY = 'attestation-cas.pem';
let cloud: LocalCloud;
let handler: (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;

x509.cryptoProvider.set(webcrypto as never);

async function ca(name: string, isCa = true): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a1b2c3d',
    name,
    keys,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 365 * 86400_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(isCa, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return cert.toString('pem');
}

function request(method: string, path: string, body?: unknown, query?: Record<string, string>) {
  const event = JSON.parse(
    readFileSync(new URL('../../../events/admin-api/get-vehicle-access.json', import.meta.url), 'utf8'),
  ) as APIGatewayProxyEvent;
  return {
    ...event,
    httpMethod: method,
    path,
    pathParameters: { proxy: path.replace(/^\//, '') },
    queryStringParameters: query ?? null,
    body: body === undefined ? null : JSON.stringify(body),
  } as APIGatewayProxyEvent;
}

async function call(event: APIGatewayProxyEvent) {
  const res = await handler(event, lambdaContext({ functionName: `cv-security-${STAGE}-adminApi` }));
  return { status: res.statusCode, body: JSON.parse(res.body || '{}') as Record<string, unknown> };
}

function places() {
  const pinned = cloud.apigateway.domains.get(DOMAIN)?.truststoreVersion;
  return {
    ssm: cloud.ssm.parameters.get(PARAM)?.Value,
    pinned,
    object: cloud.s3
      .versions(BUCKET, KEY)
      .find((v) => v.versionId === pinned)
      ?.body.toString('utf8'),
  };
}

let deployed: string;
beforeAll(async () => {
  deployed = await ca('CN=Deployed CA');
  cloud = await LocalCloud.start({
    region: 'eu-west-1',
    account: '111122223333',
    ssmParameters: { [PARAM]: deployed },
  });
  await createTables(new DynamoDBClient(cloud.clientConfig()), {
    ecuRegistry: `cv-security-${STAGE}-ecu-registry`,
    vehicleAccess: `cv-security-${STAGE}-vehicle-access`,
    commands: `cv-security-${STAGE}-commands`,
    telemetry: `cv-security-${STAGE}-telemetry`,
    adminAudit: `cv-security-${STAGE}-admin-audit`,
    suppliers: `cv-security-${STAGE}-suppliers`,
  });
  cloud.s3.createBucket(BUCKET);
  const version = cloud.s3.putObject(BUCKET, KEY, Buffer.from(deployed));
  cloud.apigateway.createDomainName(DOMAIN, { uri: `s3://${BUCKET}/${KEY}`, version });
  for (const [k, v] of Object.entries({
    ...cloud.sdkEnv(),
    STAGE,
    TRUSTSTORE_BUCKET: BUCKET,
    // As the template sets them (serverless/functions/admin-api.yml), so the recorded calls map to the deployed names.
    SUPPLIERS_TABLE: `cv-security-${STAGE}-suppliers`,
    ADMIN_AUDIT_TABLE: `cv-security-${STAGE}-admin-audit`,
    ECU_REGISTRY_TABLE: `cv-security-${STAGE}-ecu-registry`,
    VEHICLE_ACCESS_TABLE: `cv-security-${STAGE}-vehicle-access`,
    ATTESTATION_TRUST_BUNDLE_PARAM: PARAM,
    CERT_BROKER_DOMAIN: DOMAIN,
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  }))
    vi.stubEnv(k, v);
  ({ handler } = (await import('../src/handler.js')) as unknown as { handler: typeof handler });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await cloud?.stop();
});

describe('admin API: suppliers and audit', () => {
  it('add (POST), list (GET), retire (POST), audit (GET): the three trust places change together', async () => {
    const pem = await ca('CN=Acme Attestation CA');

    const added = await call(request('POST', '/suppliers/acme/cas', { certificatePem: pem }));
    const afterAdd = places();
    const list = await call(request('GET', '/suppliers'));
    const retired = await call(request('POST', '/suppliers/acme/retire', {}));
    const afterRetire = places();
    const audit = await call(request('GET', '/audit', undefined, { target: 'supplier:acme' }));

    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ outcome: 'added', trust: 'published' });
    expect(afterAdd.ssm?.match(/-----BEGIN CERTIFICATE-----/g)?.length).toBe(2);
    expect(afterAdd.object).toBe(afterAdd.ssm);
    expect(list.body).toMatchObject({ cas: [{ supplierId: 'acme', status: 'ACTIVE' }] });
    expect(retired.body).toMatchObject({ outcome: 'retired', trust: 'published' });
    expect(afterRetire.ssm).toBe(deployed.trim().concat('\n'));
    expect(afterRetire.object).toBe(afterRetire.ssm);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({ action: 'supplier.retire', actor: CALLER, outcome: 'succeeded' }),
      expect.objectContaining({ action: 'supplier.add', actor: CALLER, outcome: 'succeeded' }),
    ]);
  });

  it('errors as the CLI has them: a leaf is 409 ca_not_ca, a bad id 400, an unknown supplier 404; nothing published', async () => {
    const leaf = await ca('CN=ECU', false);
    const before = places();

    const notCa = await call(request('POST', '/suppliers/leafy/cas', { certificatePem: leaf }));
    const badId = await call(request('POST', '/suppliers/Bad_Id/cas', { certificatePem: leaf }));
    const unknown = await call(request('POST', '/suppliers/nobody/retire', {}));
    const badQuery = await call(request('GET', '/audit', undefined, { since: 'yesterday' }));

    expect([notCa.status, notCa.body.error]).toEqual([409, 'ca_not_ca']);
    expect([badId.status, badId.body.error]).toEqual([400, 'invalid_input']);
    expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
    expect([badQuery.status, badQuery.body.error]).toEqual([400, 'invalid_input']);
    expect(places()).toEqual(before);
  });
});
