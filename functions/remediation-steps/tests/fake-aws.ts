/**
 * A stateful fake of the AWS APIs the steps call, installed on aws-sdk-client-mock stubs. It keeps the end state
 * (group membership, certificate status, jobs, policy versions, registry rows, OpsItems, alerts, finding status)
 * so that running a step or the whole state machine twice shows what a retry really changes, and it logs every
 * call in order across services.
 */
import {
  ACMPCAClient,
  RequestAlreadyProcessedException,
  RevokeCertificateCommand,
} from '@aws-sdk/client-acm-pca';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateJobCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  DescribeCertificateCommand,
  GetPolicyCommand,
  IoTClient,
  ListPolicyVersionsCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  VersionsLimitExceededException,
} from '@aws-sdk/client-iot';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  CreateOpsItemCommand,
  DescribeOpsItemsCommand,
  OpsItemAlreadyExistsException,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mock, type Stub } from './harness.js';

// biome-ignore lint/suspicious/noExplicitAny: the fake reads SDK inputs of many shapes, checked by the steps' own types
type Input = Record<string, any>;
const meta = { $metadata: {} };

export interface FakeCert {
  status: string;
  pem: string;
  serial: string;
  things: string[];
}

export class World {
  readonly log: string[] = [];
  readonly groups = new Map<string, Set<string>>();
  readonly groupPolicies = new Map<string, Set<string>>();
  readonly certs = new Map<string, FakeCert>();
  readonly jobs = new Map<string, string[]>();
  readonly registry = new Map<
    string,
    {
      thingName: string;
      rotationJobId?: string;
      rotationRequestedAt?: string;
      rotationMethod?: string;
      rotationRetiredCertificateIds?: string[];
    }
  >();
  readonly policies = new Map<
    string,
    { defaultId: string; versions: Array<{ id: string; doc: string; at: number }> }
  >();
  readonly revokedSerials = new Set<string>();
  readonly opsItems: Array<{ id: string; findingId: string; dedup: string; status: string }> = [];
  readonly alerts: Array<{ subject: string; message: string }> = [];
  readonly findings = new Map<string, { status: string; note: string }>();
  /** The alert ledger (pk alertKey): claimedAt / sentAt epoch seconds, messageId. */
  readonly alertLedger = new Map<string, { claimedAt: number; sentAt?: number; messageId?: string }>();
  /** When false, a refused claim carries no old item (as from a store that ignores ReturnValuesOnConditionCheckFailure). */
  ledgerReturnsOldItem = true;
  /** The finding provenance table (pk findingId), as DynamoDB items. */
  readonly provenance = new Map<string, Record<string, unknown>>();
  /** Errors to throw, once each, before the named call (`IoT.AddThingToThingGroup`) does anything. */
  readonly failNext = new Map<string, Error[]>();
  private clock = 0;

  readonly stubs: Record<'iot' | 'pca' | 'ddb' | 'sns' | 'ssm' | 'hub', Stub> = {
    iot: mock(IoTClient),
    pca: mock(ACMPCAClient),
    ddb: mock(DynamoDBClient),
    sns: mock(SNSClient),
    ssm: mock(SSMClient),
    hub: mock(SecurityHubClient),
  };

  constructor() {
    this.install();
  }

  /** Mutating calls that succeeded (changed or re-set state), in order; refused ones (already exists) are not. */
  readonly writes: string[] = [];

  /** Removes the fakes from the SDK clients (call before making another World). */
  dispose(): void {
    for (const stub of Object.values(this.stubs)) stub.restore();
  }

  private fake(stub: Stub, service: string, command: { name: string }, fn: (input: Input) => unknown): void {
    const name = `${service}.${command.name.replace(/Command$/, '')}`;
    (stub.on(command) as unknown as { callsFake(f: (input: Input) => unknown): void }).callsFake(
      async (input: Input) => {
        this.log.push(name);
        const queued = this.failNext.get(name)?.shift();
        if (queued !== undefined) throw queued;
        const out = await fn(input);
        if (!/\.(List|Describe|Get)/.test(name)) this.writes.push(name);
        return out;
      },
    );
  }

  /** The two conditional updates DynamoAlertLedger makes (claim, markSent), with DynamoDB's semantics. */
  private ledgerUpdate(i: Input): unknown {
    const key = i.Key.alertKey.S as string;
    const row = this.alertLedger.get(key);
    const v = i.ExpressionAttributeValues;
    if (String(i.UpdateExpression).includes('sentAt')) {
      if (row === undefined) throw new ConditionalCheckFailedException({ message: 'condition', ...meta });
      row.sentAt = Number(v[':now'].N);
      row.messageId = v[':id'].S;
      return {};
    }
    const free = row === undefined || (row.sentAt === undefined && row.claimedAt < Number(v[':stale'].N));
    if (!free) {
      const Item = {
        alertKey: { S: key },
        claimedAt: { N: String(row?.claimedAt) },
        ...(row?.sentAt === undefined ? {} : { sentAt: { N: String(row.sentAt) } }),
        ...(row?.messageId === undefined ? {} : { messageId: { S: row.messageId } }),
      };
      throw new ConditionalCheckFailedException({
        message: 'condition',
        ...meta,
        ...(this.ledgerReturnsOldItem ? { Item } : {}),
      });
    }
    this.alertLedger.set(key, { claimedAt: Number(v[':now'].N) });
    return {};
  }

  private install(): void {
    const { iot, pca, ddb, sns, ssm, hub } = this.stubs;
    const certId = (arn: string) => /cert\/([0-9a-f]{64})$/.exec(arn)?.[1] ?? '';
    const group = (arn: string) => /thinggroup\/(.+)$/.exec(arn)?.[1] ?? '';
    this.fake(iot, 'IoT', ListPrincipalThingsCommand, (i) => {
      const cert = this.certs.get(certId(i.principal));
      if (cert === undefined) throw new ResourceNotFoundException({ message: 'no such principal', ...meta });
      return { things: cert.things };
    });
    this.fake(iot, 'IoT', ListThingPrincipalsCommand, (i) => ({
      principals: [...this.certs.entries()]
        .filter(([, c]) => c.things.includes(i.thingName))
        .map(([id]) => `arn:aws:iot:eu-west-1:123456789012:cert/${id}`),
    }));
    this.fake(iot, 'IoT', ListThingGroupsForThingCommand, (i) => ({
      thingGroups: [...(this.groups.get(i.thingName) ?? [])].map((groupName) => ({ groupName })),
    }));
    this.fake(iot, 'IoT', AddThingToThingGroupCommand, (i) => {
      const set = this.groups.get(i.thingName) ?? new Set<string>();
      set.add(i.thingGroupName);
      this.groups.set(i.thingName, set);
      return {};
    });
    this.fake(iot, 'IoT', ListTargetsForPolicyCommand, (i) => ({
      targets: [...this.groupPolicies.entries()]
        .filter(([, policies]) => policies.has(i.policyName))
        .map(([g]) => `arn:aws:iot:eu-west-1:123456789012:thinggroup/${g}`),
    }));
    this.fake(iot, 'IoT', AttachPolicyCommand, (i) => {
      const set = this.groupPolicies.get(group(i.target)) ?? new Set<string>();
      set.add(i.policyName);
      this.groupPolicies.set(group(i.target), set);
      return {};
    });
    this.fake(iot, 'IoT', DescribeCertificateCommand, (i) => {
      const cert = this.certs.get(i.certificateId);
      if (cert === undefined)
        throw new ResourceNotFoundException({ message: 'no such certificate', ...meta });
      return {
        certificateDescription: {
          certificateId: i.certificateId,
          status: cert.status,
          certificatePem: cert.pem,
        },
      };
    });
    this.fake(iot, 'IoT', UpdateCertificateCommand, (i) => {
      const cert = this.certs.get(i.certificateId);
      if (cert === undefined)
        throw new ResourceNotFoundException({ message: 'no such certificate', ...meta });
      cert.status = i.newStatus;
      return {};
    });
    this.fake(iot, 'IoT', CreateJobCommand, (i) => {
      if (this.jobs.has(i.jobId)) {
        throw new ResourceAlreadyExistsException({ message: 'job exists', resourceId: i.jobId, ...meta });
      }
      this.jobs.set(i.jobId, i.targets);
      return { jobId: i.jobId };
    });
    this.fake(iot, 'IoT', GetPolicyCommand, (i) => {
      const p = this.policies.get(i.policyName);
      if (p === undefined) throw new ResourceNotFoundException({ message: 'no such policy', ...meta });
      const doc = p.versions.find((v) => v.id === p.defaultId)?.doc;
      return { policyName: i.policyName, defaultVersionId: p.defaultId, policyDocument: doc };
    });
    this.fake(iot, 'IoT', ListPolicyVersionsCommand, (i) => ({
      policyVersions: (this.policies.get(i.policyName)?.versions ?? []).map((v) => ({
        versionId: v.id,
        isDefaultVersion: v.id === this.policies.get(i.policyName)?.defaultId,
        createDate: new Date(v.at),
      })),
    }));
    this.fake(iot, 'IoT', DeletePolicyVersionCommand, (i) => {
      const p = this.policies.get(i.policyName);
      if (p === undefined) throw new ResourceNotFoundException({ message: 'no such policy', ...meta });
      p.versions = p.versions.filter((v) => v.id !== i.policyVersionId);
      return {};
    });
    this.fake(iot, 'IoT', CreatePolicyVersionCommand, (i) => {
      const p = this.policies.get(i.policyName);
      if (p === undefined) throw new ResourceNotFoundException({ message: 'no such policy', ...meta });
      if (p.versions.length >= 5)
        throw new VersionsLimitExceededException({ message: 'five versions', ...meta });
      const id = String(Math.max(...p.versions.map((v) => Number(v.id))) + 1);
      p.versions.push({ id, doc: i.policyDocument, at: ++this.clock + 1_800_000_000_000 });
      if (i.setAsDefault) p.defaultId = id;
      return { policyVersionId: id, isDefaultVersion: i.setAsDefault === true };
    });
    this.fake(pca, 'PCA', RevokeCertificateCommand, (i) => {
      const serial = String(i.CertificateSerial).replace(/:/g, '').toUpperCase();
      if (this.revokedSerials.has(serial)) {
        throw new RequestAlreadyProcessedException({ message: 'already revoked', ...meta });
      }
      this.revokedSerials.add(serial);
      return {};
    });
    this.fake(ddb, 'DynamoDB', GetItemCommand, (i) => {
      if (/alert-ledger$/.test(i.TableName)) {
        const key = i.Key.alertKey.S as string;
        const row = this.alertLedger.get(key);
        return row === undefined
          ? {}
          : {
              Item: {
                alertKey: { S: key },
                claimedAt: { N: String(row.claimedAt) },
                ...(row.sentAt === undefined ? {} : { sentAt: { N: String(row.sentAt) } }),
                ...(row.messageId === undefined ? {} : { messageId: { S: row.messageId } }),
              },
            };
      }
      if (!/finding-provenance$/.test(i.TableName)) throw new Error(`GetItem on ${i.TableName}`);
      return { Item: this.provenance.get(i.Key.findingId.S) };
    });
    this.fake(ddb, 'DynamoDB', UpdateItemCommand, (i) => {
      if (/alert-ledger$/.test(i.TableName)) return this.ledgerUpdate(i);
      const ecuId = i.Key.ecuId.S as string;
      const row = this.registry.get(ecuId);
      const values = i.ExpressionAttributeValues;
      const ok =
        row !== undefined && row.thingName === values[':thing'].S && row.rotationJobId !== values[':job'].S;
      if (!ok) {
        const Item =
          row === undefined
            ? undefined
            : {
                ecuId: { S: ecuId },
                thingName: { S: row.thingName },
                ...(row.rotationJobId ? { rotationJobId: { S: row.rotationJobId } } : {}),
              };
        throw new ConditionalCheckFailedException({
          message: 'condition',
          ...meta,
          ...(Item ? { Item } : {}),
        });
      }
      row.rotationJobId = values[':job'].S;
      row.rotationRequestedAt = values[':at'].S;
      row.rotationMethod = values[':method'].S;
      row.rotationRetiredCertificateIds = values[':retired'].L.map((v: { S: string }) => v.S);
      return {};
    });
    this.fake(sns, 'SNS', PublishCommand, (i) => {
      this.alerts.push({ subject: i.Subject, message: i.Message });
      return { MessageId: `msg-${this.alerts.length}` };
    });
    this.fake(ssm, 'SSM', DescribeOpsItemsCommand, (i) => {
      const wanted = JSON.parse(i.OpsItemFilters[0].Values[0]) as { key: string; value: string };
      return {
        OpsItemSummaries: this.opsItems
          .filter((o) => wanted.key === '/cv/findingId' && o.findingId === wanted.value)
          .map((o) => ({ OpsItemId: o.id, Status: o.status })),
      };
    });
    this.fake(ssm, 'SSM', CreateOpsItemCommand, (i) => {
      const dedup = JSON.parse(i.OperationalData['/aws/dedup'].Value).dedupString as string;
      const open = this.opsItems.find((o) => o.dedup === dedup && o.status !== 'Resolved');
      if (open) throw new OpsItemAlreadyExistsException({ message: 'exists', OpsItemId: open.id, ...meta });
      const id = `oi-${String(this.opsItems.length + 1).padStart(12, '0')}`;
      this.opsItems.push({ id, findingId: i.OperationalData['/cv/findingId'].Value, dedup, status: 'Open' });
      return { OpsItemId: id };
    });
    this.fake(hub, 'SecurityHub', BatchUpdateFindingsCommand, (i) => {
      for (const f of i.FindingIdentifiers)
        this.findings.set(f.Id, { status: i.Workflow.Status, note: i.Note.Text });
      return { ProcessedFindings: i.FindingIdentifiers, UnprocessedFindings: [] };
    });
  }
}
