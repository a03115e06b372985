/**
 * The packaged CloudFormation template, resolved for evaluation: intrinsic functions replaced by the values they take
 * in one fixed account and region, every Lambda function with its role's policies, its configuration and the package
 * and export its handler names, and the resource policies (KMS key policies, SQS queue policies) requests meet.
 */
import { TemplateResolutionError } from './errors.js';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
}
export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[];
}
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** A role's identity policies, by name. */
export interface Role {
  logicalId: string;
  arn: string;
  policies: Array<{ name: string; document: PolicyDocument }>;
}

export interface LambdaFunction {
  logicalId: string;
  /** The function's name (physical), e.g. `cv-security-dev-remediationOpenTicket`. */
  name: string;
  /** `functions/<package>/src/handler.<export>` split up. */
  package: string;
  handlerExport: string;
  role: Role;
  environment: Record<string, string>;
  tracing: boolean;
}

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': PARTITION,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'cv-security-dev',
  'AWS::NoValue': '',
};

const arn = (service: string, rest: string, region = REGION, account = ACCOUNT) =>
  `arn:${PARTITION}:${service}:${region}:${account}:${rest}`;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A template with its intrinsics resolvable to concrete values. */
export class ResolvedTemplate {
  readonly resources: Record<string, CfnResource>;

  /**
   * @param physicalIds ids that resources have where the template is evaluated (e.g. the local cloud's id of
   * `OperationalCaCertificate`), by logical id: `Ref` and `Fn::GetAtt ... Id` return them instead of synthetic ids.
   */
  constructor(
    template: CfnTemplate,
    private readonly physicalIds: Readonly<Record<string, string>> = {},
  ) {
    this.resources = template.Resources ?? {};
  }

  private props(id: string): Record<string, unknown> {
    return this.resources[id]?.Properties ?? {};
  }

  /** The physical name of a named resource (what `Ref` returns for most types). */
  private physicalName(id: string, field: string): string {
    const v = this.props(id)[field];
    return v === undefined ? id : String(this.resolve(v, `${id}.${field}`));
  }

  /** What `Ref` returns. */
  ref(id: string, path: string): string {
    if (id in PSEUDO) return PSEUDO[id] ?? '';
    const r = this.resources[id];
    if (r === undefined) throw new TemplateResolutionError(path, `Ref to unknown resource ${id}`);
    const physical = this.physicalIds[id];
    if (physical !== undefined) return physical;
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return this.physicalName(id, 'TableName');
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${this.physicalName(id, 'QueueName')}`;
      case 'AWS::SNS::Topic':
        return arn('sns', this.physicalName(id, 'TopicName'));
      case 'AWS::KMS::Key':
        return `key-${id}`;
      case 'AWS::KMS::Alias':
        return this.physicalName(id, 'AliasName');
      case 'AWS::IoT::RoleAlias':
        return this.physicalName(id, 'RoleAlias');
      case 'AWS::IoT::ThingGroup':
        return this.physicalName(id, 'ThingGroupName');
      case 'AWS::IoT::Policy':
        return this.physicalName(id, 'PolicyName');
      case 'AWS::IAM::Role':
        return this.physicalName(id, 'RoleName');
      case 'AWS::Lambda::Function':
        return this.physicalName(id, 'FunctionName');
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${this.physicalName(id, 'StateMachineName')}`);
      case 'AWS::IoT::TopicRule':
        // Without RuleName CloudFormation generates one from the logical id; Ref returns the name.
        return this.physicalName(id, 'RuleName');
      case 'AWS::Events::Rule':
        // Without Name CloudFormation generates `<stack>-<logical id>-<suffix>` (the suffix is left out here).
        return this.props(id).Name === undefined
          ? `${PSEUDO['AWS::StackName']}-${id}`
          : this.physicalName(id, 'Name');
      case 'AWS::Logs::LogGroup':
        return this.physicalName(id, 'LogGroupName');
      default:
        return id;
    }
  }

  /** What `Fn::GetAtt` returns. */
  getAtt(id: string, attribute: string, path: string): string {
    const r = this.resources[id];
    if (r === undefined) throw new TemplateResolutionError(path, `GetAtt of unknown resource ${id}`);
    if (attribute === 'Arn') {
      switch (r.Type) {
        case 'AWS::DynamoDB::Table':
          return arn('dynamodb', `table/${this.ref(id, path)}`);
        case 'AWS::SQS::Queue':
          return arn('sqs', this.physicalName(id, 'QueueName'));
        case 'AWS::KMS::Key':
          return arn('kms', `key/${this.ref(id, path)}`);
        case 'AWS::IoT::ThingGroup':
          return arn('iot', `thinggroup/${this.ref(id, path)}`);
        case 'AWS::IoT::Policy':
          return arn('iot', `policy/${this.ref(id, path)}`);
        case 'AWS::IoT::RoleAlias':
          return arn('iot', `rolealias/${this.ref(id, path)}`);
        case 'AWS::IAM::Role':
          return `arn:${PARTITION}:iam::${ACCOUNT}:role/${this.ref(id, path)}`;
        case 'AWS::Lambda::Function':
          return arn('lambda', `function:${this.ref(id, path)}`);
        case 'AWS::SNS::Topic':
          return this.ref(id, path);
        case 'AWS::IoT::CACertificate':
          return arn('iot', `cacert/${this.getAtt(id, 'Id', path)}`);
        case 'AWS::IoT::TopicRule':
          return arn('iot', `rule/${this.ref(id, path)}`);
        case 'AWS::Events::Rule':
          return arn('events', `rule/${this.ref(id, path)}`);
        case 'AWS::StepFunctions::StateMachine':
          return this.ref(id, path);
        case 'AWS::S3::Bucket':
          // Bucket ARNs have neither region nor account: objects are `<bucket ARN>/<key>`.
          return `arn:${PARTITION}:s3:::${this.ref(id, path)}`;
        case 'AWS::Logs::LogGroup':
          // CloudWatch Logs' Arn attribute (and the ARN it authorises log-group actions on) ends with `:*`.
          return arn('logs', `log-group:${this.ref(id, path)}:*`);
        default:
          return arn(r.Type.split('::')[1]?.toLowerCase() ?? 'unknown', id);
      }
    }
    if (attribute === 'Id' && r.Type === 'AWS::IoT::CACertificate')
      return this.physicalIds[id] ?? `cacert-${id}`.toLowerCase();
    if (attribute === 'QueueName' && r.Type === 'AWS::SQS::Queue') return this.physicalName(id, 'QueueName');
    if (attribute === 'TopicName' && r.Type === 'AWS::SNS::Topic') return this.physicalName(id, 'TopicName');
    if (attribute === 'KeyId' && r.Type === 'AWS::KMS::Key') return this.ref(id, path);
    // A table's stream: the label is fixed here (CloudFormation makes it a creation timestamp).
    if (attribute === 'StreamArn' && r.Type === 'AWS::DynamoDB::Table')
      return arn('dynamodb', `table/${this.ref(id, path)}/stream/2026-01-01T00:00:00.000`);
    return `${id}.${attribute}`;
  }

  private sub(template: string, vars: Record<string, unknown>, path: string): string {
    return template.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in vars) return String(this.resolve(vars[name], path));
      if (name in PSEUDO) return PSEUDO[name] ?? '';
      const dot = name.indexOf('.');
      if (dot > 0) return this.getAtt(name.slice(0, dot), name.slice(dot + 1), path);
      if (this.resources[name] !== undefined) return this.ref(name, path);
      throw new TemplateResolutionError(path, `unresolvable ${whole} in Fn::Sub`);
    });
  }

  /** A value with every intrinsic function replaced. */
  resolve(value: unknown, path = '$'): unknown {
    if (Array.isArray(value)) return value.map((v, i) => this.resolve(v, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [first] = entries;
    if (entries.length === 1 && first !== undefined) {
      const [fn, arg] = first;
      if (fn === 'Ref') return this.ref(String(arg), path);
      if (fn === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return this.getAtt(String(id), String(attr), path);
      }
      if (fn === 'Fn::Sub') {
        if (typeof arg === 'string') return this.sub(arg, {}, path);
        const [tpl, vars] = arg as [string, Record<string, unknown>];
        return this.sub(tpl, vars, path);
      }
      if (fn === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return (this.resolve(parts, path) as unknown[]).join(sep);
      }
      if (fn === 'Fn::Select') {
        const [index, list] = arg as [number, unknown];
        return (this.resolve(list, path) as unknown[])[Number(index)];
      }
      if (fn === 'Fn::Split') {
        const [sep, source] = arg as [string, unknown];
        return String(this.resolve(source, path)).split(sep);
      }
      if (fn.startsWith('Fn::')) throw new TemplateResolutionError(path, `unsupported ${fn}`);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v, `${path}.${k}`)]));
  }

  /** Every resource of a type, by logical id. */
  ofType(type: string): Array<[string, CfnResource]> {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  /** The AWS managed policies a role attaches (their statements are AWS's, not in the template). */
  managedPolicyArns(logicalId: string): string[] {
    return (this.resolve(this.props(logicalId).ManagedPolicyArns ?? [], logicalId) as unknown[]).map(String);
  }

  /** The role's trust policy (who may assume it). */
  trustPolicy(logicalId: string): PolicyDocument {
    return this.resolve(this.props(logicalId).AssumeRolePolicyDocument, logicalId) as PolicyDocument;
  }

  /** The logical id of the role an ARN (`Fn::GetAtt Role.Arn`, resolved) designates. */
  roleIdOfArn(roleArn: string): string | undefined {
    return this.ofType('AWS::IAM::Role').find(([id]) => this.getAtt(id, 'Arn', id) === roleArn)?.[0];
  }

  role(logicalId: string): Role {
    const props = this.resolve(this.props(logicalId), logicalId) as {
      Policies?: Array<{ PolicyName: string; PolicyDocument: PolicyDocument }>;
      ManagedPolicyArns?: string[];
    };
    if ((props.ManagedPolicyArns ?? []).length > 0) {
      throw new TemplateResolutionError(logicalId, 'managed policies are not evaluated: inline them');
    }
    const policies = (props.Policies ?? []).map((p) => ({ name: p.PolicyName, document: p.PolicyDocument }));
    for (const [id, r] of this.ofType('AWS::IAM::Policy')) {
      const p = this.resolve(r.Properties, id) as {
        PolicyName: string;
        PolicyDocument: PolicyDocument;
        Roles?: unknown[];
      };
      if ((p.Roles ?? []).includes(this.ref(logicalId, id)))
        policies.push({ name: p.PolicyName, document: p.PolicyDocument });
    }
    return { logicalId, arn: this.getAtt(logicalId, 'Arn', logicalId), policies };
  }

  /**
   * Every Lambda function whose handler is `functions/<package>/src/<file>.<export>`. Functions with inline code
   * (`Code.ZipFile`: CloudFormation custom resources such as the trust bundle object's) are not the platform's and have
   * no test suite to record calls from; {@link inlineFunctionIds} names them so a test can account for each.
   */
  functions(): LambdaFunction[] {
    const inline = new Set(this.inlineFunctionIds());
    return this.ofType('AWS::Lambda::Function').flatMap(([id, r]) => {
      if (inline.has(id)) return [];
      const p = r.Properties ?? {};
      const handler = str(p.Handler) ?? '';
      const m = /^functions\/([^/]+)\/src\/[^.]+\.(\w+)$/.exec(handler);
      if (m === null)
        throw new TemplateResolutionError(id, `handler ${handler} is not functions/<package>/src/...`);
      const roleRef = p.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const roleId = roleRef?.['Fn::GetAtt']?.[0];
      if (roleId === undefined)
        throw new TemplateResolutionError(id, 'Role is not Fn::GetAtt of a role in the template');
      const env = (this.resolve(
        (p.Environment as { Variables?: unknown } | undefined)?.Variables ?? {},
        id,
      ) ?? {}) as Record<string, unknown>;
      return {
        logicalId: id,
        name: this.ref(id, id),
        package: m[1] ?? '',
        handlerExport: m[2] ?? '',
        role: this.role(roleId),
        environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
        tracing: (p.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
      };
    });
  }

  /** The logical ids of the Lambda functions whose code is inline in the template (custom resources). */
  inlineFunctionIds(): string[] {
    return this.ofType('AWS::Lambda::Function')
      .filter(([, r]) => (r.Properties?.Code as { ZipFile?: unknown } | undefined)?.ZipFile !== undefined)
      .map(([id]) => id);
  }

  /** The key ARN an alias name (`alias/...`), key id or key ARN designates, if the template defines that key. */
  kmsKeyArn(keyId: string): string | undefined {
    for (const [id, r] of this.ofType('AWS::KMS::Alias')) {
      const p = this.resolve(r.Properties, id) as { AliasName: string; TargetKeyId: string };
      if (keyId === p.AliasName || keyId === arn('kms', p.AliasName)) return this.kmsKeyArn(p.TargetKeyId);
    }
    for (const [id] of this.ofType('AWS::KMS::Key')) {
      const keyArn = this.getAtt(id, 'Arn', id);
      if (keyId === keyArn || keyId === this.ref(id, id)) return keyArn;
    }
    return undefined;
  }

  /** The resource policy a request on `resourceArn` meets: a KMS key policy or an SQS queue policy. */
  resourcePolicy(resourceArn: string): PolicyDocument | undefined {
    for (const [id, r] of this.ofType('AWS::KMS::Key')) {
      if (this.getAtt(id, 'Arn', id) === resourceArn) {
        return this.resolve(r.Properties?.KeyPolicy, `${id}.KeyPolicy`) as PolicyDocument;
      }
    }
    for (const [id, r] of this.ofType('AWS::SQS::QueuePolicy')) {
      const p = this.resolve(r.Properties, id) as { Queues: string[]; PolicyDocument: PolicyDocument };
      const arns = p.Queues.map((url) => arn('sqs', url.split('/').pop() ?? ''));
      if (arns.includes(resourceArn)) return p.PolicyDocument;
    }
    if (resourceArn.startsWith(arn('lambda', 'function:'))) return this.lambdaPermissionPolicy(resourceArn);
    return undefined;
  }

  /**
   * A function's resource-based policy as Lambda builds it from its `AWS::Lambda::Permission`s (AddPermission): the
   * principal, the action, `ArnLike aws:SourceArn` and `StringEquals aws:SourceAccount` when the permission sets them.
   */
  lambdaPermissionPolicy(functionArn: string): PolicyDocument | undefined {
    const statements: PolicyStatement[] = [];
    for (const [id, r] of this.ofType('AWS::Lambda::Permission')) {
      const p = this.resolve(r.Properties, id) as {
        FunctionName: string;
        Action: string;
        Principal: string;
        SourceArn?: string;
        SourceAccount?: string;
      };
      const target = p.FunctionName.startsWith('arn:')
        ? p.FunctionName
        : arn('lambda', `function:${p.FunctionName}`);
      if (target !== functionArn) continue;
      const condition: Record<string, Record<string, unknown>> = {};
      if (p.SourceArn !== undefined) condition.ArnLike = { 'aws:SourceArn': p.SourceArn };
      if (p.SourceAccount !== undefined) condition.StringEquals = { 'aws:SourceAccount': p.SourceAccount };
      const principal = /^\d{12}$|^arn:/.test(p.Principal) ? { AWS: p.Principal } : { Service: p.Principal };
      statements.push({
        Sid: id,
        Effect: 'Allow',
        Principal: principal,
        Action: p.Action,
        Resource: functionArn,
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
      });
    }
    return statements.length === 0 ? undefined : { Version: '2012-10-17', Statement: statements };
  }

  /** The KMS key (ARN) that encrypts an SQS queue or SNS topic, given the queue's or topic's ARN. */
  encryptionKeyOf(resourceArn: string): string | undefined {
    for (const type of ['AWS::SQS::Queue', 'AWS::SNS::Topic']) {
      for (const [id, r] of this.ofType(type)) {
        if (this.getAtt(id, 'Arn', id) !== resourceArn) continue;
        const key = r.Properties?.KmsMasterKeyId;
        return key === undefined ? undefined : this.kmsKeyArn(String(this.resolve(key, id)));
      }
    }
    return undefined;
  }
}
