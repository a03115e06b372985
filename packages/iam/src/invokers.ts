/**
 * Services that invoke the platform's functions as themselves (API Gateway, CloudWatch Logs subscription filters) and
 * CloudWatch Logs using the key of each encrypted log group: requests authorised by the resource's policy alone (the
 * function's Lambda permissions, the key policy), derived from the template.
 */
import { UnmappedCallError } from './errors.js';
import { arn, SERVICE, type ServiceRequest } from './service-request.js';
import { ACCOUNT, type ResolvedTemplate } from './template.js';

/** The function ARN a Lambda integration URI (`arn:...:apigateway:...:lambda:path/2015-03-31/functions/<arn>/invocations`) names. */
const functionOfUri = (uri: string) => /functions\/(arn:[^/]+)\/invocations$/.exec(uri)?.[1] ?? uri;

/** The path of a REST API resource (`/vehicles/{vin}/commands`), from its PathPart and ParentId chain. */
function restPath(template: ResolvedTemplate, resourceId: string): string {
  const r = template.resources[resourceId];
  if (r?.Type !== 'AWS::ApiGateway::Resource') return '';
  const p = r.Properties as { ParentId?: { Ref?: string }; PathPart: string };
  return `${restPath(template, p.ParentId?.Ref ?? '')}/${p.PathPart}`;
}

/** API Gateway invoking functions (REST methods, authorizers, HTTP API routes) and CloudWatch Logs subscription filters. */
export function invokerRequests(template: ResolvedTemplate): ServiceRequest[] {
  const out: ServiceRequest[] = [];
  const invoke = (principal: string, fnArn: string, sourceArn: string, origin: string) =>
    out.push({
      action: 'lambda:InvokeFunction',
      resource: functionOfUri(fnArn),
      context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': ACCOUNT },
      origin,
      principal,
    });
  const stageOf = (type: string, apiField: string, api: string) =>
    template
      .ofType(type)
      .map(([sid, s]) => template.resolve(s.Properties, sid) as Record<string, string>)
      .filter((s) => s[apiField] === api)
      .map((s) => s.StageName);
  for (const [id, r] of template.ofType('AWS::ApiGateway::Method')) {
    const p = template.resolve(r.Properties, id) as {
      HttpMethod: string;
      RestApiId: string;
      Integration?: { Type?: string; Uri?: string };
    };
    if (p.Integration?.Uri === undefined || !p.Integration.Uri.includes(':lambda:path/')) continue;
    const path =
      restPath(template, (r.Properties?.ResourceId as { Ref?: string } | undefined)?.Ref ?? '') || '/';
    for (const stage of stageOf('AWS::ApiGateway::Stage', 'RestApiId', p.RestApiId)) {
      invoke(
        SERVICE.apigateway,
        p.Integration.Uri,
        arn('execute-api', `${p.RestApiId}/${stage}/${p.HttpMethod}${path}`),
        `API Gateway ${id}`,
      );
    }
  }
  for (const [id, r] of template.ofType('AWS::ApiGateway::Authorizer')) {
    const p = template.resolve(r.Properties, id) as { RestApiId: string; AuthorizerUri?: string };
    if (p.AuthorizerUri === undefined) continue;
    invoke(
      SERVICE.apigateway,
      p.AuthorizerUri,
      arn('execute-api', `${p.RestApiId}/authorizers/${template.ref(id, id)}`),
      `API Gateway ${id}`,
    );
  }
  for (const [id, r] of template.ofType('AWS::ApiGatewayV2::Route')) {
    const p = template.resolve(r.Properties, id) as { ApiId: string; RouteKey: string; Target?: string };
    const integrationId = (p.Target ?? '').split('/').pop() ?? '';
    const integration = template
      .ofType('AWS::ApiGatewayV2::Integration')
      .find(([iid]) => template.ref(iid, iid) === integrationId);
    if (integration === undefined) continue;
    const uri = String(
      (template.resolve(integration[1].Properties, integration[0]) as { IntegrationUri?: string })
        .IntegrationUri,
    );
    if (!uri.includes(':lambda:')) continue;
    const [method, path] = p.RouteKey.split(' ');
    for (const stage of stageOf('AWS::ApiGatewayV2::Stage', 'ApiId', p.ApiId)) {
      invoke(
        SERVICE.apigateway,
        uri,
        arn('execute-api', `${p.ApiId}/${stage}/${method}${path ?? ''}`),
        `API Gateway ${id}`,
      );
    }
  }
  for (const [id, r] of template.ofType('AWS::Logs::SubscriptionFilter')) {
    const p = template.resolve(r.Properties, id) as {
      LogGroupName: string;
      DestinationArn: string;
      RoleArn?: string;
    };
    if (!p.DestinationArn.includes(':lambda:'))
      throw new UnmappedCallError(id, `destination ${p.DestinationArn} is not modelled`);
    invoke(
      SERVICE.logs,
      p.DestinationArn,
      arn('logs', `log-group:${p.LogGroupName}:*`),
      `CloudWatch Logs ${id}`,
    );
  }
  return out;
}

/** CloudWatch Logs encrypting each log group that names a KMS key (the key policy must allow it for that group). */
export function logGroupKeyRequests(template: ResolvedTemplate): ServiceRequest[] {
  return template.ofType('AWS::Logs::LogGroup').flatMap(([id, r]) => {
    const p = template.resolve(r.Properties, id) as { LogGroupName: string; KmsKeyId?: string };
    const key = p.KmsKeyId === undefined ? undefined : (template.kmsKeyArn(p.KmsKeyId) ?? p.KmsKeyId);
    if (key === undefined) return [];
    const context = {
      'kms:EncryptionContext:aws:logs:arn': arn('logs', `log-group:${p.LogGroupName}`),
      'kms:EncryptionContextKeys': ['aws:logs:arn'],
    };
    return ['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
      action,
      resource: key,
      context,
      origin: `CloudWatch Logs: log group ${id}`,
      principal: SERVICE.logs,
    }));
  });
}
