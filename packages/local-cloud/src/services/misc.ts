/** Security Hub (restJson1), SNS (awsQuery), SSM parameters and OpsCenter (awsJson1_1), STS GetCallerIdentity. */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AwsApiError } from '../errors.js';
import { type ApiRequest, jsonBody, jsonRouter, restRouter, type ServiceHandler, str, xml } from '../wire.js';

type Finding = Record<string, unknown> & { Id: string; ProductArn: string };

const FILTER_PATHS: Record<string, (f: Finding) => unknown[]> = {
  Id: (f) => [f.Id],
  ProductArn: (f) => [f.ProductArn],
  GeneratorId: (f) => [f.GeneratorId],
  AwsAccountId: (f) => [f.AwsAccountId],
  Title: (f) => [f.Title],
  RecordState: (f) => [f.RecordState],
  WorkflowStatus: (f) => [(f.Workflow as { Status?: string } | undefined)?.Status],
  ComplianceStatus: (f) => [(f.Compliance as { Status?: string } | undefined)?.Status],
  ResourceId: (f) => ((f.Resources as { Id?: string }[] | undefined) ?? []).map((r) => r.Id),
  ResourceType: (f) => ((f.Resources as { Type?: string }[] | undefined) ?? []).map((r) => r.Type),
};

export class SecurityHubService extends EventEmitter<{ imported: [findings: Finding[]] }> {
  readonly findings = new Map<string, Finding>();
  readonly calls = new Map<string, number>();

  private key(id: string, productArn: string): string {
    return `${productArn}\n${id}`;
  }

  /** Imports ASFF findings (as BatchImportFindings): new ones get Workflow NEW and RecordState ACTIVE. */
  importFindings(findings: readonly Record<string, unknown>[]): {
    success: number;
    failed: { Id: string; ErrorCode: string; ErrorMessage: string }[];
  } {
    const imported: Finding[] = [];
    const failed: { Id: string; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const raw of findings) {
      const id = raw.Id;
      const productArn = raw.ProductArn;
      const missing = [
        'SchemaVersion',
        'Id',
        'ProductArn',
        'GeneratorId',
        'AwsAccountId',
        'CreatedAt',
        'UpdatedAt',
        'Title',
        'Description',
        'Resources',
      ].filter((k) => raw[k] === undefined);
      if (typeof id !== 'string' || typeof productArn !== 'string' || missing.length > 0) {
        failed.push({
          Id: String(id ?? ''),
          ErrorCode: 'InvalidInput',
          ErrorMessage: `Finding is missing ${missing.join(', ')}`,
        });
        continue;
      }
      const existing = this.findings.get(this.key(id, productArn));
      const finding: Finding = {
        Workflow: { Status: 'NEW' },
        WorkflowState: 'NEW',
        RecordState: 'ACTIVE',
        ...(existing ? { Workflow: existing.Workflow, Note: existing.Note } : {}),
        ...raw,
        Id: id,
        ProductArn: productArn,
      };
      this.findings.set(this.key(id, productArn), finding);
      imported.push(finding);
    }
    if (imported.length > 0) this.emit('imported', imported);
    return { success: imported.length, failed };
  }

  handler(): ServiceHandler {
    const count = (op: string) => this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    return restRouter([
      {
        method: 'POST',
        path: '/findings/import',
        name: 'BatchImportFindings',
        handle: (req) => {
          count('BatchImportFindings');
          const body = jsonBody(req) as { Findings?: Record<string, unknown>[] };
          const findings = body.Findings ?? [];
          if (findings.length === 0 || findings.length > 100) {
            throw new AwsApiError('InvalidInputException', 'Findings must hold 1 to 100 findings');
          }
          const { success, failed } = this.importFindings(findings);
          return { body: { FailedCount: failed.length, SuccessCount: success, FailedFindings: failed } };
        },
      },
      {
        method: 'PATCH',
        path: '/findings/batchupdate',
        name: 'BatchUpdateFindings',
        handle: (req) => {
          count('BatchUpdateFindings');
          const body = jsonBody(req) as {
            FindingIdentifiers?: { Id: string; ProductArn: string }[];
            Workflow?: { Status?: string };
            Note?: { Text?: string; UpdatedBy?: string };
            Severity?: unknown;
            VerificationState?: string;
          };
          const processed: { Id: string; ProductArn: string }[] = [];
          const unprocessed: unknown[] = [];
          for (const ident of body.FindingIdentifiers ?? []) {
            const finding = this.findings.get(this.key(ident.Id, ident.ProductArn));
            if (!finding) {
              unprocessed.push({
                FindingIdentifier: ident,
                ErrorCode: 'FindingNotFound',
                ErrorMessage: 'Finding not found',
              });
              continue;
            }
            if (body.Workflow?.Status) finding.Workflow = { Status: body.Workflow.Status };
            if (body.Note?.Text) finding.Note = { ...body.Note, UpdatedAt: new Date().toISOString() };
            if (body.Severity) finding.Severity = body.Severity;
            if (body.VerificationState) finding.VerificationState = body.VerificationState;
            finding.UpdatedAt = new Date().toISOString();
            processed.push(ident);
          }
          return { body: { ProcessedFindings: processed, UnprocessedFindings: unprocessed } };
        },
      },
      {
        method: 'POST',
        path: '/findings',
        name: 'GetFindings',
        handle: (req) => {
          count('GetFindings');
          const body = jsonBody(req) as {
            Filters?: Record<string, { Value: string; Comparison: string }[]>;
            MaxResults?: number;
          };
          let list = [...this.findings.values()];
          for (const [name, conditions] of Object.entries(body.Filters ?? {})) {
            const path = FILTER_PATHS[name];
            if (!path)
              throw new AwsApiError('InvalidInputException', `Filter ${name} is not supported locally`);
            list = list.filter((f) =>
              conditions.some((c) =>
                path(f).some((v) =>
                  c.Comparison === 'PREFIX'
                    ? String(v ?? '').startsWith(c.Value)
                    : c.Comparison === 'NOT_EQUALS'
                      ? v !== c.Value
                      : v === c.Value,
                ),
              ),
            );
          }
          return { body: { Findings: list.slice(0, body.MaxResults ?? 100) } };
        },
      },
    ]);
  }
}

export interface SnsMessage {
  readonly topicArn: string;
  readonly subject: string | undefined;
  readonly message: string;
  readonly messageId: string;
  readonly attributes: Record<string, string>;
}

export class SnsService extends EventEmitter<{ published: [message: SnsMessage] }> {
  readonly topics = new Set<string>();
  readonly messages: SnsMessage[] = [];
  readonly calls = new Map<string, number>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {
    super();
  }

  handler(): ServiceHandler {
    return (req: ApiRequest) => {
      const form = new URLSearchParams(req.body.toString('utf8'));
      const action = form.get('Action') ?? '';
      this.calls.set(action, (this.calls.get(action) ?? 0) + 1);
      const ns = 'http://sns.amazonaws.com/doc/2010-03-31/';
      const meta = `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;
      if (action === 'CreateTopic') {
        const name = form.get('Name') ?? '';
        if (!/^[\w-]{1,256}(\.fifo)?$/.test(name))
          throw new AwsApiError('InvalidParameter', 'Invalid parameter: Topic Name');
        const arn = `arn:aws:sns:${this.region}:${this.account}:${name}`;
        this.topics.add(arn);
        return {
          body: `<CreateTopicResponse xmlns="${ns}"><CreateTopicResult><TopicArn>${xml(arn)}</TopicArn></CreateTopicResult>${meta}</CreateTopicResponse>`,
        };
      }
      if (action === 'Publish') {
        const topicArn = form.get('TopicArn') ?? form.get('TargetArn') ?? '';
        if (!this.topics.has(topicArn)) throw new AwsApiError('NotFound', 'Topic does not exist', 404);
        const message = form.get('Message');
        if (!message) throw new AwsApiError('InvalidParameter', 'Invalid parameter: Empty message');
        if (Buffer.byteLength(message) > 262144)
          throw new AwsApiError('InvalidParameter', 'Invalid parameter: Message too long');
        const attributes: Record<string, string> = {};
        for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
          attributes[form.get(`MessageAttributes.entry.${i}.Name`) ?? ''] =
            form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
        }
        const record: SnsMessage = {
          topicArn,
          subject: form.get('Subject') ?? undefined,
          message,
          messageId: randomUUID(),
          attributes,
        };
        this.messages.push(record);
        this.emit('published', record);
        return {
          body: `<PublishResponse xmlns="${ns}"><PublishResult><MessageId>${record.messageId}</MessageId></PublishResult>${meta}</PublishResponse>`,
        };
      }
      throw new AwsApiError('InvalidAction', `The action ${action} is not valid for this endpoint.`);
    };
  }
}

interface Parameter {
  Name: string;
  Type: string;
  Value: string;
  Version: number;
  LastModifiedDate: number;
}

interface OpsItem {
  OpsItemId: string;
  Title: string;
  Description: string;
  Source: string;
  Status: string;
  Severity?: string;
  Category?: string;
  OperationalData: Record<string, { Value: string; Type?: string }>;
  CreatedTime: number;
}

export class SsmService {
  readonly parameters = new Map<string, Parameter>();
  readonly opsItems = new Map<string, OpsItem>();
  readonly calls = new Map<string, number>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  putParameter(name: string, value: string, type = 'String'): void {
    const prev = this.parameters.get(name);
    this.parameters.set(name, {
      Name: name,
      Type: type,
      Value: value,
      Version: (prev?.Version ?? 0) + 1,
      LastModifiedDate: Date.now() / 1000,
    });
  }

  handler(): ServiceHandler {
    const count =
      (op: string, fn: (i: Record<string, unknown>) => unknown) => (i: Record<string, unknown>) => {
        this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
        return fn(i);
      };
    return jsonRouter({
      GetParameter: count('GetParameter', (input) => {
        const name = str(input, 'Name');
        const p = this.parameters.get(name);
        if (!p) throw new AwsApiError('ParameterNotFound', '');
        return {
          Parameter: {
            ...p,
            ARN: `arn:aws:ssm:${this.region}:${this.account}:parameter/${name.replace(/^\//, '')}`,
            DataType: 'text',
          },
        };
      }),
      PutParameter: count('PutParameter', (input) => {
        const name = str(input, 'Name');
        if (this.parameters.has(name) && input.Overwrite !== true) {
          throw new AwsApiError(
            'ParameterAlreadyExists',
            'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
          );
        }
        this.putParameter(name, str(input, 'Value'), typeof input.Type === 'string' ? input.Type : 'String');
        return { Version: this.parameters.get(name)?.Version, Tier: 'Standard' };
      }),
      CreateOpsItem: count('CreateOpsItem', (input) => {
        const data = (input.OperationalData ?? {}) as Record<string, { Value: string; Type?: string }>;
        const dedup = data['/aws/dedup']?.Value;
        if (dedup) {
          const wanted = (JSON.parse(dedup) as { dedupString?: string }).dedupString;
          for (const item of this.opsItems.values()) {
            const other = item.OperationalData['/aws/dedup']?.Value;
            if (
              other &&
              (JSON.parse(other) as { dedupString?: string }).dedupString === wanted &&
              item.Status !== 'Resolved'
            ) {
              throw new AwsApiError('OpsItemAlreadyExistsException', 'The OpsItem already exists.', 400, {
                OpsItemId: item.OpsItemId,
              });
            }
          }
        }
        const id = `oi-${randomUUID().replace(/-/g, '').slice(0, 12)}`;
        this.opsItems.set(id, {
          OpsItemId: id,
          Title: str(input, 'Title'),
          Description: str(input, 'Description'),
          Source: str(input, 'Source'),
          Status: 'Open',
          ...(typeof input.Severity === 'string' ? { Severity: input.Severity } : {}),
          ...(typeof input.Category === 'string' ? { Category: input.Category } : {}),
          OperationalData: data,
          CreatedTime: Date.now() / 1000,
        });
        return { OpsItemId: id, OpsItemArn: `arn:aws:ssm:${this.region}:${this.account}:opsitem/${id}` };
      }),
      DescribeOpsItems: count('DescribeOpsItems', (input) => {
        const filters = (input.OpsItemFilters ?? []) as { Key: string; Values: string[]; Operator: string }[];
        const items = [...this.opsItems.values()].filter((item) =>
          filters.every((f) =>
            f.Values.some((v) => {
              if (f.Key === 'OperationalData') {
                const { key, value } = JSON.parse(v) as { key: string; value: string };
                return item.OperationalData[key]?.Value === value;
              }
              const field = {
                OpsItemId: item.OpsItemId,
                Status: item.Status,
                Source: item.Source,
                Title: item.Title,
              }[f.Key];
              if (field === undefined)
                throw new AwsApiError(
                  'OpsItemInvalidParameterException',
                  `Filter ${f.Key} is not supported locally`,
                );
              return f.Operator === 'Contains' ? field.includes(v) : field === v;
            }),
          ),
        );
        return {
          OpsItemSummaries: items.map((i) => ({
            OpsItemId: i.OpsItemId,
            Title: i.Title,
            Source: i.Source,
            Status: i.Status,
            Severity: i.Severity,
            Category: i.Category,
            OperationalData: i.OperationalData,
            CreatedTime: i.CreatedTime,
          })),
        };
      }),
    });
  }
}

export function stsHandler(account: string): ServiceHandler {
  return (req: ApiRequest) => {
    const form = new URLSearchParams(req.body.toString('utf8'));
    if (form.get('Action') !== 'GetCallerIdentity')
      throw new AwsApiError('InvalidAction', 'not served locally');
    return {
      body: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/local</Arn><UserId>AIDALOCAL</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    };
  };
}
