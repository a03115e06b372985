/**
 * IAM enforcement of the local cloud: the access key of a request's SigV4 credential scope names a principal (a
 * function's role from the packaged template, or an ECU's credential-provider session bound to its thing name), and
 * every request is evaluated with @cv/iam (iam-simulate, key policies included) before it is served. A denial is the
 * service's own AccessDenied error, in its wire format.
 */
import {
  ACCOUNT,
  type ApiCall,
  type CfnTemplate,
  evaluate,
  iamRequests,
  type Principal,
  ResolvedTemplate,
} from '@cv/iam';
import { AwsApiError } from './errors.js';

/** SigV4 signing name -> the SDK client's service id @cv/iam maps to IAM. */
const SERVICE_IDS: Record<string, string> = {
  kms: 'KMS',
  dynamodb: 'DynamoDB',
  iot: 'IoT',
  iotdata: 'IoT Data Plane',
  'acm-pca': 'ACM PCA',
  ssm: 'SSM',
  securityhub: 'SecurityHub',
  sns: 'SNS',
  sts: 'STS',
  s3: 'S3',
  apigateway: 'ApiGatewayV2',
};

/** Protocol of each service's AccessDenied: awsJson answers 400, restJson 403, awsQuery `AuthorizationError` 403. */
const DENIAL: Record<string, { code: string; status: number }> = {
  sns: { code: 'AuthorizationError', status: 403 },
  iot: { code: 'AccessDeniedException', status: 403 },
  iotdata: { code: 'AccessDeniedException', status: 403 },
  securityhub: { code: 'AccessDeniedException', status: 403 },
  s3: { code: 'AccessDenied', status: 403 },
  apigateway: { code: 'AccessDeniedException', status: 403 },
};

export interface Denial {
  principal: string;
  action: string;
  resource: string;
  reason: string;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * @example const iam = new IamEnforcer(packagedTemplate); cloud.enforce(iam); const creds = iam.functionCredentials('commandSender');
 */
export class IamEnforcer {
  readonly template: ResolvedTemplate;
  /** Every denial, in order (the demo reports their count). */
  readonly denials: Denial[] = [];
  /** Requests evaluated. */
  evaluated = 0;
  /** Called with each denial as it happens (the demo logs them). */
  onDenial: (denial: Denial) => void = () => undefined;
  private readonly principals = new Map<string, Principal>();
  /** Resolves a KMS key id of the local cloud to the ids it is also known by (its aliases). */
  keyAliases: (keyId: string) => string[] = () => [];
  /** The key id a ciphertext names (Decrypt without KeyId is authorised on the key inside the ciphertext). */
  ciphertextKey: (ciphertextBase64: string) => string | undefined = () => undefined;

  /** @param physicalIds ids of template resources in this local cloud, by logical id (see ResolvedTemplate). */
  constructor(template: CfnTemplate, physicalIds: Readonly<Record<string, string>> = {}) {
    this.template = new ResolvedTemplate(template, physicalIds);
    for (const fn of this.template.functions()) {
      this.principals.set(`lambda.${fn.name}`, {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${fn.role.arn.split('/').pop()}/${fn.name}`,
        policies: fn.role.policies,
      });
    }
  }

  /** Credentials of a function's role (by logical name, e.g. `commandSender`, or full function name). */
  functionCredentials(name: string): Credentials {
    const fn = this.template.functions().find((f) => f.name === name || f.name.endsWith(`-${name}`));
    if (fn === undefined) throw new Error(`no function ${name} in the template`);
    return { accessKeyId: `lambda.${fn.name}`, secretAccessKey: 'local' };
  }

  /**
   * What the IoT credential provider issues an ECU: a session of EcuCredentialProviderRole whose
   * `credentials-iot:ThingName` is the thing name of the certificate it authenticated with.
   */
  ecuCredentials(thingName: string, roleLogicalId = 'EcuCredentialProviderRole'): Credentials {
    if (!/^[A-Za-z0-9:_-]{1,128}$/.test(thingName)) throw new Error('invalid thing name');
    const role = this.template.role(roleLogicalId);
    this.principals.set(`ecu.${thingName}`, {
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.arn.split('/').pop()}/${thingName}`,
      policies: role.policies,
      variables: { 'credentials-iot:ThingName': thingName },
    });
    return { accessKeyId: `ecu.${thingName}`, secretAccessKey: 'local' };
  }

  private deny(denial: Denial): void {
    this.denials.push(denial);
    this.onDenial(denial);
  }

  /** Whether an access key names a principal this enforcer evaluates. */
  knows(accessKeyId: string): boolean {
    return this.principals.has(accessKeyId);
  }

  /** The local key ids a KMS request names are also known by their aliases: pick the one the template knows. */
  private asTemplateCall(call: ApiCall): ApiCall {
    if (call.service !== 'KMS') return call;
    const keyId =
      typeof call.input.KeyId === 'string'
        ? call.input.KeyId
        : typeof call.input.CiphertextBlob === 'string'
          ? this.ciphertextKey(call.input.CiphertextBlob)
          : undefined;
    if (keyId === undefined) return call;
    if (this.template.kmsKeyArn(keyId) !== undefined)
      return { ...call, input: { ...call.input, KeyId: keyId } };
    const id = keyId.split('/').pop() ?? keyId;
    const alias = this.keyAliases(id).find((a) => this.template.kmsKeyArn(a) !== undefined);
    return { ...call, input: { ...call.input, KeyId: alias ?? keyId } };
  }

  /**
   * Throws the service's AccessDenied error unless every IAM request of the call is allowed for the principal.
   * Unknown access keys are rejected as AWS rejects them (`UnrecognizedClientException`).
   */
  async authorize(
    signingName: string,
    accessKeyId: string,
    operation: string,
    input: Record<string, unknown>,
  ): Promise<void> {
    const principal = this.principals.get(accessKeyId);
    if (principal === undefined) {
      throw new AwsApiError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
        403,
      );
    }
    const denial = DENIAL[signingName] ?? { code: 'AccessDeniedException', status: 400 };
    const service = SERVICE_IDS[signingName];
    let requests: Awaited<ReturnType<typeof iamRequests>>;
    try {
      if (service === undefined) throw new Error(`no IAM mapping for ${signingName}`);
      requests = await iamRequests(this.asTemplateCall({ service, operation, input }), this.template);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.deny({
        principal: principal.arn,
        action: `${signingName}:${operation}`,
        resource: '?',
        reason,
      });
      throw new AwsApiError(
        denial.code,
        `User: ${principal.arn} is not authorized to perform: ${signingName}:${operation}`,
        denial.status,
      );
    }
    for (const request of requests) {
      this.evaluated += 1;
      const verdict = await evaluate(request, principal, this.template.resourcePolicy(request.resource));
      if (!verdict.allowed) {
        this.deny({
          principal: principal.arn,
          action: request.action,
          resource: request.resource,
          reason: verdict.reason,
        });
        throw new AwsApiError(
          denial.code,
          `User: ${principal.arn} is not authorized to perform: ${request.action} on resource: ${request.resource}`,
          denial.status,
        );
      }
    }
  }
}
