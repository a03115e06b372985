/**
 * IAM enforcement of the local cloud on the mTLS truststore's two services (issue 15: the admin API onboards
 * supplier CAs): S3 objects and API Gateway v2 custom domains are authorised like the other services, against the
 * function's role in the packaged template. The admin API's credentials may write, read and delete versions of the
 * truststore object and read and pin the stage's domain; another key, another domain, or another function's
 * credentials get the service's AccessDenied, and nothing changes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiGatewayV2Client,
  GetDomainNameCommand,
  UpdateDomainNameCommand,
} from '@aws-sdk/client-apigatewayv2';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CfnTemplate } from '@cv/iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Credentials, IamEnforcer, LocalCloud } from '../src/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TEMPLATE = join(ROOT, '.serverless', 'cloudformation-template-update-stack.json');
if (!existsSync(TEMPLATE)) throw new Error(`${TEMPLATE} is missing: run \`pnpm run package\` first`);
const template = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as CfnTemplate;

// What the packaged dev stage names them (the template resolver's `Ref TruststoreBucket` is the logical id).
const BUCKET = 'TruststoreBucket';
const KEY = 'attestation-cas.pem';
const DOMAIN = 'certs.dev.cv.example.com';
const OTHER_DOMAIN = 'certs.prod.cv.example.com';

let cloud: LocalCloud;
let iam: IamEnforcer;
let deployedVersion: string;

const s3 = (c: Credentials) =>
  new S3Client({ endpoint: cloud.endpoint, region: cloud.region, credentials: c, forcePathStyle: true });
const apigw = (c: Credentials) =>
  new ApiGatewayV2Client({ endpoint: cloud.endpoint, region: cloud.region, credentials: c });

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name} ${e.$metadata?.httpStatusCode}`;
  }
}

const state = () => ({
  versions: cloud.s3.versions(BUCKET, KEY).map((v) => v.versionId),
  domains: [...cloud.apigateway.domains.values()].map((d) => ({ ...d })),
});

beforeAll(async () => {
  cloud = await LocalCloud.start({ registerOperationalCa: false });
  iam = new IamEnforcer(template);
  cloud.enforce(iam);
  cloud.s3.createBucket(BUCKET);
  deployedVersion = cloud.s3.putObject(BUCKET, KEY, Buffer.from('deployed bundle'));
  cloud.s3.putObject(BUCKET, 'other.pem', Buffer.from('not the truststore'));
  for (const domain of [DOMAIN, OTHER_DOMAIN]) {
    cloud.apigateway.createDomainName(domain, { uri: `s3://${BUCKET}/${KEY}`, version: deployedVersion });
  }
}, 60_000);
afterAll(async () => {
  await cloud?.stop();
});

describe('S3 objects under IAM', () => {
  it('the admin API writes a version of the truststore object, reads it by version and deletes it; another key is AccessDenied (403)', async () => {
    const admin = s3(iam.functionCredentials('adminApi'));

    const put = await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: 'new bundle' }));
    const version = put.VersionId ?? '';
    const read = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, VersionId: version }));
    expect(await read.Body?.transformToString()).toBe('new bundle');
    expect(
      await outcome(admin.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: KEY, VersionId: version }))),
    ).toBe('ok');
    const before = state();

    const denied = [
      await outcome(admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'other.pem', Body: 'x' }))),
      await outcome(admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'other.pem' }))),
      // The unversioned read is s3:GetObject, which the role does not hold (it reads pinned versions only).
      await outcome(admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }))),
      // Another bucket: denied before S3 says whether it exists.
      await outcome(admin.send(new PutObjectCommand({ Bucket: 'another-bucket', Key: KEY, Body: 'x' }))),
    ];

    expect(denied).toEqual(['AccessDenied 403', 'AccessDenied 403', 'AccessDenied 403', 'AccessDenied 403']);
    expect(state()).toEqual(before);
  });

  it("another function's credentials cannot write or delete the truststore object", async () => {
    const sender = s3(iam.functionCredentials('commandSender'));
    const before = state();

    const put = await outcome(sender.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: 'x' })));
    const del = await outcome(
      sender.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: KEY, VersionId: deployedVersion })),
    );

    expect([put, del]).toEqual(['AccessDenied 403', 'AccessDenied 403']);
    expect(state()).toEqual(before);
  });
});

describe('API Gateway v2 domains under IAM', () => {
  it("the admin API reads and pins the stage's domain; another stage's domain is AccessDeniedException (403), unchanged", async () => {
    const admin = apigw(iam.functionCredentials('adminApi'));
    const version = cloud.s3.putObject(BUCKET, KEY, Buffer.from('pinned bundle'));

    const got = await admin.send(new GetDomainNameCommand({ DomainName: DOMAIN }));
    const pin = (domain: string) =>
      admin.send(
        new UpdateDomainNameCommand({
          DomainName: domain,
          MutualTlsAuthentication: { TruststoreUri: `s3://${BUCKET}/${KEY}`, TruststoreVersion: version },
        }),
      );
    expect(got.MutualTlsAuthentication?.TruststoreUri).toBe(`s3://${BUCKET}/${KEY}`);
    expect(await outcome(pin(DOMAIN))).toBe('ok');
    expect(cloud.apigateway.domains.get(DOMAIN)?.truststoreVersion).toBe(version);
    const before = state();

    expect(await outcome(admin.send(new GetDomainNameCommand({ DomainName: OTHER_DOMAIN })))).toBe(
      'AccessDeniedException 403',
    );
    expect(await outcome(pin(OTHER_DOMAIN))).toBe('AccessDeniedException 403');
    expect(state()).toEqual(before);
  });

  it('pinning the domain to an object the caller may not read is denied (API Gateway reads it with the caller credentials)', async () => {
    const admin = apigw(iam.functionCredentials('adminApi'));
    const before = state();

    const foreign = await outcome(
      admin.send(
        new UpdateDomainNameCommand({
          DomainName: DOMAIN,
          MutualTlsAuthentication: {
            TruststoreUri: `s3://${BUCKET}/other.pem`,
            TruststoreVersion: deployedVersion,
          },
        }),
      ),
    );
    const sender = await outcome(
      apigw(iam.functionCredentials('commandSender')).send(new GetDomainNameCommand({ DomainName: DOMAIN })),
    );

    expect([foreign, sender]).toEqual(['AccessDeniedException 403', 'AccessDeniedException 403']);
    expect(state()).toEqual(before);
  });
});
