/**
 * The two pieces of the mutual-TLS truststore the operator side changes: S3 objects in versioned buckets (PutObject,
 * GetObject, DeleteObject by version; path-style requests, as the SDK sends them to an IP endpoint) and API Gateway
 * v2 custom domains (GetDomainName, UpdateDomainName: the truststore URI and pinned version). Buckets and domains
 * are created by the test or the demo (`createBucket`, `createDomainName`), as CloudFormation would. With IAM
 * enforced, each request is authorised first (S3 object actions, a version's as `...Version`; API Gateway as
 * `apigateway:GET`/`PATCH` on the domain, and the truststore object read with the caller's credentials).
 */
import { randomUUID } from 'node:crypto';
import { AwsApiError } from '../errors.js';
import { type ApiReply, type ApiRequest, jsonBody, type ServiceHandler } from '../wire.js';

interface ObjectVersion {
  readonly versionId: string;
  readonly body: Buffer;
  readonly contentType: string;
}

export class S3Service {
  /** bucket -> key -> versions, oldest first. */
  readonly buckets = new Map<string, Map<string, ObjectVersion[]>>();
  readonly calls = new Map<string, number>();

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** The object's versions, oldest first (empty when none). */
  versions(bucket: string, key: string): readonly ObjectVersion[] {
    return this.buckets.get(bucket)?.get(key) ?? [];
  }

  putObject(bucket: string, key: string, body: Buffer, contentType = 'application/octet-stream'): string {
    const objects = this.buckets.get(bucket);
    if (!objects) throw new AwsApiError('NoSuchBucket', 'The specified bucket does not exist', 404);
    const version = { versionId: randomUUID().replaceAll('-', ''), body, contentType };
    objects.set(key, [...(objects.get(key) ?? []), version]);
    return version.versionId;
  }

  handler(): ServiceHandler {
    return async (request: ApiRequest): Promise<ApiReply> => {
      const [, bucket = '', ...rest] = request.path.split('/');
      const key = rest.map(decodeURIComponent).join('/');
      const versionId = request.query.get('versionId') ?? undefined;
      const op =
        { PUT: 'PutObject', GET: 'GetObject', DELETE: 'DeleteObject' }[request.method] ?? request.method;
      // IAM first, as S3 answers AccessDenied before saying whether the bucket or key exists.
      await request.authorize?.(op, {
        Bucket: bucket,
        Key: key,
        ...(versionId ? { VersionId: versionId } : {}),
      });
      const objects = this.buckets.get(bucket);
      if (!objects) throw new AwsApiError('NoSuchBucket', 'The specified bucket does not exist', 404);
      if (key === '')
        throw new AwsApiError('NotImplemented', 'only object operations are served locally', 501);
      this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
      if (request.method === 'PUT') {
        const contentType = String(request.headers['content-type'] ?? 'application/octet-stream');
        const id = this.putObject(bucket, key, request.body, contentType);
        return { headers: { 'x-amz-version-id': id, etag: `"${randomUUID()}"` } };
      }
      const versions = objects.get(key) ?? [];
      if (request.method === 'GET') {
        const found =
          versionId === undefined ? versions.at(-1) : versions.find((v) => v.versionId === versionId);
        if (!found) {
          throw versionId === undefined
            ? new AwsApiError('NoSuchKey', 'The specified key does not exist.', 404)
            : new AwsApiError('NoSuchVersion', 'The specified version does not exist.', 404);
        }
        return {
          body: found.body,
          headers: { 'content-type': found.contentType, 'x-amz-version-id': found.versionId },
        };
      }
      if (request.method === 'DELETE') {
        if (versionId === undefined) {
          throw new AwsApiError('NotImplemented', 'only versioned deletes are served locally', 501);
        }
        objects.set(
          key,
          versions.filter((v) => v.versionId !== versionId),
        );
        return { status: 204, headers: { 'x-amz-version-id': versionId } };
      }
      throw new AwsApiError('MethodNotAllowed', 'The specified method is not allowed', 405);
    };
  }
}

interface DomainName {
  domainName: string;
  truststoreUri: string | undefined;
  truststoreVersion: string | undefined;
}

export class ApiGatewayV2Service {
  readonly domains = new Map<string, DomainName>();
  readonly calls = new Map<string, number>();

  createDomainName(domainName: string, truststore?: { uri: string; version?: string }): void {
    this.domains.set(domainName, {
      domainName,
      truststoreUri: truststore?.uri,
      truststoreVersion: truststore?.version,
    });
  }

  private view(d: DomainName) {
    return {
      domainName: d.domainName,
      domainNameConfigurations: [{ endpointType: 'REGIONAL', securityPolicy: 'TLS_1_2' }],
      ...(d.truststoreUri === undefined
        ? {}
        : {
            mutualTlsAuthentication: {
              truststoreUri: d.truststoreUri,
              truststoreVersion: d.truststoreVersion,
            },
          }),
    };
  }

  handler(): ServiceHandler {
    return async (request: ApiRequest) => {
      const match = /^\/v2\/domainnames\/([^/]+)$/.exec(request.path);
      if (!match?.[1]) throw new AwsApiError('NotFoundException', `no route for ${request.path}`, 404);
      const domainName = decodeURIComponent(match[1]);
      if (request.authorize !== undefined) {
        const op = request.method === 'PATCH' ? 'UpdateDomainName' : 'GetDomainName';
        const body = request.method === 'PATCH' ? jsonBody(request) : {};
        const mtls = body.mutualTlsAuthentication as
          | { truststoreUri?: unknown; truststoreVersion?: unknown }
          | undefined;
        await request.authorize(op, {
          DomainName: domainName,
          ...(mtls === undefined
            ? {}
            : {
                MutualTlsAuthentication: {
                  TruststoreUri: mtls.truststoreUri,
                  ...(typeof mtls.truststoreVersion === 'string'
                    ? { TruststoreVersion: mtls.truststoreVersion }
                    : {}),
                },
              }),
        });
      }
      const domain = this.domains.get(domainName);
      if (!domain)
        throw new AwsApiError('NotFoundException', 'Invalid domain name identifier specified', 404);
      if (request.method === 'GET') {
        this.calls.set('GetDomainName', (this.calls.get('GetDomainName') ?? 0) + 1);
        return { body: this.view(domain) };
      }
      if (request.method === 'PATCH') {
        this.calls.set('UpdateDomainName', (this.calls.get('UpdateDomainName') ?? 0) + 1);
        const input = jsonBody(request);
        const mtls = input.mutualTlsAuthentication as
          | { truststoreUri?: unknown; truststoreVersion?: unknown }
          | undefined;
        if (mtls !== undefined) {
          if (typeof mtls.truststoreUri !== 'string' || !mtls.truststoreUri.startsWith('s3://')) {
            throw new AwsApiError('BadRequestException', 'TruststoreUri must be an S3 URI', 400);
          }
          domain.truststoreUri = mtls.truststoreUri;
          domain.truststoreVersion =
            typeof mtls.truststoreVersion === 'string' ? mtls.truststoreVersion : undefined;
        }
        return { body: this.view(domain) };
      }
      throw new AwsApiError('NotFoundException', `no route for ${request.method} ${request.path}`, 404);
    };
  }
}
