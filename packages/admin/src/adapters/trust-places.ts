import {
  type ApiGatewayV2Client,
  GetDomainNameCommand,
  UpdateDomainNameCommand,
} from '@aws-sdk/client-apigatewayv2';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { TrustPlacesPort } from '../suppliers/ports.js';

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/;

/**
 * {@link TrustPlacesPort} on AWS: the broker's bundle in SSM (`Intelligent-Tiering`, as the stack creates it), the
 * truststore object in S3 (the bucket and key read from the domain's `TruststoreUri`; when a bucket is configured,
 * the domain must name it) and the custom domain's `TruststoreVersion` in API Gateway.
 */
export class AwsTrustPlaces implements TrustPlacesPort {
  private domain: { uri: string; bucket: string; key: string; version: string | undefined } | undefined;

  constructor(
    private readonly clients: { ssm: SSMClient; s3: S3Client; apigateway: ApiGatewayV2Client },
    private readonly names: {
      bundleParameter: string;
      domainName: string;
      /** When configured (the admin API: `TRUSTSTORE_BUCKET`), the domain's truststore must be this object. */
      truststore?: { bucket: string; key: string } | undefined;
    },
  ) {}

  async readBundle(): Promise<string> {
    try {
      const out = await this.clients.ssm.send(
        new GetParameterCommand({ Name: this.names.bundleParameter, WithDecryption: true }),
      );
      return out.Parameter?.Value ?? '';
    } catch (error) {
      if (error instanceof ParameterNotFound) return '';
      throw error;
    }
  }

  async writeBundle(pem: string): Promise<void> {
    await this.clients.ssm.send(
      new PutParameterCommand({
        Name: this.names.bundleParameter,
        Value: pem,
        Type: 'String',
        Tier: 'Intelligent-Tiering',
        Overwrite: true,
      }),
    );
  }

  private async truststore() {
    if (this.domain === undefined) {
      const out = await this.clients.apigateway.send(
        new GetDomainNameCommand({ DomainName: this.names.domainName }),
      );
      const uri = out.MutualTlsAuthentication?.TruststoreUri ?? '';
      const match = S3_URI.exec(uri);
      if (match?.[1] === undefined || match[2] === undefined) {
        throw new Error('the domain has no S3 truststore (mutual TLS is not configured)');
      }
      const want = this.names.truststore;
      if (want !== undefined && (want.bucket !== match[1] || want.key !== match[2])) {
        throw new Error('the domain is pinned to another truststore than the configured one');
      }
      this.domain = {
        uri,
        bucket: match[1],
        key: match[2],
        version: out.MutualTlsAuthentication?.TruststoreVersion,
      };
    }
    return this.domain;
  }

  async pinnedTruststore(): Promise<{ uri: string; version: string | undefined }> {
    this.domain = undefined;
    const { uri, version } = await this.truststore();
    return { uri, version };
  }

  async readTruststore(version: string): Promise<string> {
    const { bucket, key } = await this.truststore();
    const out = await this.clients.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: version }),
    );
    return (await out.Body?.transformToString('utf-8')) ?? '';
  }

  async writeTruststore(pem: string): Promise<string> {
    const { bucket, key } = await this.truststore();
    const out = await this.clients.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: pem, ContentType: 'application/x-pem-file' }),
    );
    if (!out.VersionId) throw new Error('the truststore bucket returned no VersionId: is versioning on?');
    return out.VersionId;
  }

  async deleteTruststoreVersion(version: string): Promise<void> {
    const { bucket, key } = await this.truststore();
    await this.clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: version }));
  }

  async pinTruststore(version: string): Promise<void> {
    const { uri } = await this.truststore();
    await this.clients.apigateway.send(
      new UpdateDomainNameCommand({
        DomainName: this.names.domainName,
        MutualTlsAuthentication: { TruststoreUri: uri, TruststoreVersion: version },
      }),
    );
  }
}
