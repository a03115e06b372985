/**
 * What API Gateway (REST API) does around a REQUEST authorizer, as far as the command path depends on it: the
 * identity sources form the cache key (a missing one is a 401 without calling the authorizer), a decision is cached
 * for `resultTtlInSeconds`, the cached policy is evaluated against the request's method ARN (explicit Deny wins,
 * `*` matches any characters, `/` included), and the allowed request reaches the backend with the decision's
 * context as `requestContext.authorizer`. The identity sources and TTL are read from
 * serverless/functions/commands.yml, so the test exercises the configuration that is deployed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GatewayConfig {
  readonly identitySource: readonly string[];
  readonly ttlSeconds: number;
}

/** The command routes' authorizer settings as serverless/functions/commands.yml declares them. */
export function commandAuthorizerConfig(root: string): GatewayConfig {
  const yml = readFileSync(join(root, 'serverless/functions/commands.yml'), 'utf8');
  const source = /identitySource:\s*(\S+)/.exec(yml)?.[1];
  const ttl = /resultTtlInSeconds:\s*(\d+)/.exec(yml)?.[1];
  if (source === undefined || ttl === undefined) throw new Error('commandAuthorizer settings not found');
  return { identitySource: source.split(','), ttlSeconds: Number(ttl) };
}

interface Decision {
  principalId?: string;
  policyDocument?: { Statement?: { Effect?: string; Resource?: string | string[] }[] };
  context?: Record<string, unknown>;
}

/** API Gateway's matching of a policy resource (`*` wildcards) against a method ARN. */
export function resourceMatches(resource: string, methodArn: string): boolean {
  const pattern = resource.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${pattern.join('.*')}$`).test(methodArn);
}

function effect(decision: Decision, methodArn: string): 'Allow' | 'Deny' {
  const statements = decision.policyDocument?.Statement ?? [];
  const matching = statements.filter((s) =>
    [s.Resource ?? []].flat().some((r) => resourceMatches(r, methodArn)),
  );
  if (matching.some((s) => s.Effect === 'Deny')) return 'Deny';
  return matching.some((s) => s.Effect === 'Allow') ? 'Allow' : 'Deny';
}

export interface GatewayRequest {
  readonly method: 'POST' | 'GET';
  /** The path as the client sent it, e.g. `/vehicles/<VIN>/commands`. */
  readonly path: string;
  readonly resource: string;
  readonly pathParameters: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export type Invoke = (fn: unknown, event: unknown) => Promise<unknown>;

/**
 * A REST API stage in front of the command-sender with the command-authorizer, caching as configured.
 * `authorizerCalls` counts the authorizer invocations (a cached decision does not invoke it).
 */
export class RestApiGateway {
  readonly cache = new Map<string, { decision: Decision; expires: number }>();
  authorizerCalls = 0;
  constructor(
    private readonly config: GatewayConfig,
    private readonly authorizer: unknown,
    private readonly backend: unknown,
    private readonly invoke: Invoke,
    private readonly templates: { authorizer: Record<string, unknown>; backend: Record<string, unknown> },
    private readonly now: () => number = Date.now,
  ) {}

  private identity(req: GatewayRequest): string[] | undefined {
    const values: string[] = [];
    for (const source of this.config.identitySource) {
      const header = /^method\.request\.header\.(.+)$/.exec(source)?.[1];
      const path = /^method\.request\.path\.(.+)$/.exec(source)?.[1];
      const value =
        header !== undefined
          ? Object.entries(req.headers).find(([k]) => k.toLowerCase() === header.toLowerCase())?.[1]
          : path !== undefined
            ? req.pathParameters[path]
            : undefined;
      if (value === undefined || value === '') return undefined;
      values.push(value);
    }
    return values;
  }

  async request(req: GatewayRequest): Promise<{ statusCode: number; body: string }> {
    const methodArn = `arn:aws:execute-api:eu-west-1:123456789012:r1e2s3t4u5/local/${req.method}${req.path}`;
    const identity = this.identity(req);
    if (identity === undefined) return { statusCode: 401, body: '{"message":"Unauthorized"}' };
    const key = JSON.stringify(identity);
    let decision = this.cache.get(key);
    if (decision === undefined || decision.expires <= this.now()) {
      this.authorizerCalls += 1;
      const event = {
        ...structuredClone(this.templates.authorizer),
        methodArn,
        resource: req.resource,
        path: req.path,
        httpMethod: req.method,
        headers: req.headers,
        multiValueHeaders: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, [v]])),
        pathParameters: req.pathParameters,
      };
      let result: Decision;
      try {
        result = (await this.invoke(this.authorizer, event)) as Decision;
      } catch {
        return { statusCode: 401, body: '{"message":"Unauthorized"}' };
      }
      decision = { decision: result, expires: this.now() + this.config.ttlSeconds * 1000 };
      this.cache.set(key, decision);
    }
    if (effect(decision.decision, methodArn) !== 'Allow') {
      return { statusCode: 403, body: '{"message":"User is not authorized to access this resource"}' };
    }
    const template = structuredClone(this.templates.backend) as Record<string, unknown> & {
      requestContext: Record<string, unknown>;
    };
    const event = {
      ...template,
      resource: req.resource,
      path: req.path,
      httpMethod: req.method,
      headers: req.headers,
      multiValueHeaders: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, [v]])),
      pathParameters: req.pathParameters,
      body: req.body ?? null,
      requestContext: {
        ...template.requestContext,
        httpMethod: req.method,
        resourcePath: req.resource,
        authorizer: { principalId: decision.decision.principalId, ...decision.decision.context },
      },
    };
    return (await this.invoke(this.backend, event)) as { statusCode: number; body: string };
  }
}
