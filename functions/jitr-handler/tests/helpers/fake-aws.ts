/**
 * A fake AWS IoT control plane and ECU registry (aws-sdk-client-mock) with the real services'
 * semantics where registration depends on them: CreateThing is idempotent for the same
 * attributes, AttachPolicy answers ResourceNotFoundException for a policy the stack did not create
 * (no GetPolicy/CreatePolicy: jitr-handler may not call them), AttachThingPrincipal EXCLUSIVE_THING
 * refuses a second thing, ListThingPrincipals pages (`principalPageSize`) and answers
 * ResourceNotFoundException for a missing thing, GetEffectivePolicies lists the policies
 * attached to a certificate, UpdateCertificate
 * refuses to change a REVOKED certificate, conditional registry updates. Every call is
 * journaled in order.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateThingCommand,
  DescribeCACertificateCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetEffectivePoliciesCommand,
  InvalidRequestException,
  IoTClient,
  ListThingPrincipalsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ECU_ROLES, iotPolicyName, renderIotPolicy } from '@cv/policy';
import { mockAws } from './mock.js';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const OPERATIONAL_CA_ID = 'a'.repeat(64);
export const OTHER_CA_ID = 'b'.repeat(64);
/** ISSUED_CERTIFICATES_TABLE of the tests: cert-broker's issued-certificate records. */
export const ISSUED_TABLE = 'cv-security-dev-issued-certificates';

export interface FakeCertificate {
  pem: string;
  status: string;
  caCertificateId: string;
}

export interface Journal {
  /** `Iot.<Command>` or `Registry.<Command>`, with a short detail. */
  readonly entries: {
    service: 'iot' | 'registry' | 'issued';
    command: string;
    input: Record<string, unknown>;
  }[];
}

/** The per-role policies the stack creates (serverless/resources/ecu-policies.yml), into the fake's `policies`. */
export function seedStackPolicies(policies: Map<string, string>, prefix: string): void {
  for (const role of ECU_ROLES) {
    policies.set(
      iotPolicyName(role, { prefix }),
      JSON.stringify(
        renderIotPolicy(role, { region: REGION, accountId: ACCOUNT, roleAlias: `${prefix}-ecu` }),
      ),
    );
  }
}

export function certificateArn(certificateId: string): string {
  return `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${certificateId}`;
}

const meta = { $metadata: {} };

export function fakeIot(state: {
  certificates: Map<string, FakeCertificate>;
  caCertificates: Map<string, string>;
  journal: Journal;
  /** Page size of ListThingPrincipals (IoT's own is up to `maxResults`). */
  principalPageSize?: number;
}) {
  const mock = mockAws(IoTClient);
  const things = new Map<string, Record<string, string>>();
  const policies = new Map<string, string>();
  const policyTargets = new Map<string, Set<string>>();
  const principalThings = new Map<string, { thing: string; type: string }[]>();
  const faults: { command: string; when: (input: Record<string, unknown>) => boolean; error: Error }[] = [];
  const log = (command: string, input: Record<string, unknown>) => {
    state.journal.entries.push({ service: 'iot', command, input });
    const fault = faults.findIndex((f) => f.command === command && f.when(input));
    const [hit] = fault >= 0 ? faults.splice(fault, 1) : [];
    if (hit) throw hit.error;
  };
  /** The next matching call of `command` fails with `error` (journaled, no state change). */
  const failOnce = (
    command: string,
    error: Error,
    when: (input: Record<string, unknown>) => boolean = () => true,
  ) => {
    faults.push({ command, when, error });
  };

  mock.on(DescribeCertificateCommand as never).callsFake(async (input: { certificateId: string }) => {
    log('DescribeCertificate', input);
    const cert = state.certificates.get(input.certificateId);
    if (!cert) throw new ResourceNotFoundException({ message: 'no such certificate', ...meta });
    return {
      certificateDescription: {
        certificateArn: certificateArn(input.certificateId),
        certificateId: input.certificateId,
        caCertificateId: cert.caCertificateId,
        status: cert.status,
        certificatePem: cert.pem,
        ownedBy: ACCOUNT,
      },
    };
  });
  mock.on(DescribeCACertificateCommand as never).callsFake(async (input: { certificateId: string }) => {
    log('DescribeCACertificate', input);
    const pem = state.caCertificates.get(input.certificateId);
    if (!pem) throw new ResourceNotFoundException({ message: 'no such CA', ...meta });
    return {
      certificateDescription: { certificateId: input.certificateId, certificatePem: pem, status: 'ACTIVE' },
    };
  });
  mock
    .on(UpdateCertificateCommand as never)
    .callsFake(async (input: { certificateId: string; newStatus: string }) => {
      log('UpdateCertificate', input);
      const cert = state.certificates.get(input.certificateId);
      if (!cert) throw new ResourceNotFoundException({ message: 'no such certificate', ...meta });
      if (cert.status === 'REVOKED' && input.newStatus !== 'REVOKED') {
        throw new InvalidRequestException({ message: 'cannot change a revoked certificate', ...meta });
      }
      cert.status = input.newStatus;
      return {};
    });
  mock
    .on(CreateThingCommand as never)
    .callsFake(
      async (input: { thingName: string; attributePayload?: { attributes?: Record<string, string> } }) => {
        log('CreateThing', input);
        const attributes = input.attributePayload?.attributes ?? {};
        const existing = things.get(input.thingName);
        if (existing && JSON.stringify(existing) !== JSON.stringify(attributes)) {
          throw new ResourceAlreadyExistsException({
            message: 'thing exists',
            resourceId: input.thingName,
            ...meta,
          });
        }
        things.set(input.thingName, { ...attributes });
        return {
          thingName: input.thingName,
          thingArn: `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${input.thingName}`,
        };
      },
    );
  mock.on(DescribeThingCommand as never).callsFake(async (input: { thingName: string }) => {
    log('DescribeThing', input);
    const thing = things.get(input.thingName);
    if (!thing) throw new ResourceNotFoundException({ message: 'no such thing', ...meta });
    return { thingName: input.thingName, attributes: thing };
  });
  mock.on(AttachPolicyCommand as never).callsFake(async (input: { policyName: string; target: string }) => {
    log('AttachPolicy', input);
    if (!policies.has(input.policyName))
      throw new ResourceNotFoundException({ message: 'no such policy', ...meta });
    const targets = policyTargets.get(input.policyName) ?? new Set<string>();
    targets.add(input.target);
    policyTargets.set(input.policyName, targets);
    return {};
  });
  mock
    .on(AttachThingPrincipalCommand as never)
    .callsFake(async (input: { thingName: string; principal: string; thingPrincipalType?: string }) => {
      log('AttachThingPrincipal', input);
      if (!things.has(input.thingName))
        throw new ResourceNotFoundException({ message: 'no such thing', ...meta });
      const attached = principalThings.get(input.principal) ?? [];
      if (attached.some((a) => a.thing === input.thingName)) return {};
      if (
        attached.some((a) => a.type === 'EXCLUSIVE_THING') ||
        (attached.length > 0 && input.thingPrincipalType === 'EXCLUSIVE_THING')
      ) {
        throw new InvalidRequestException({
          message: 'principal is exclusively attached to another thing',
          ...meta,
        });
      }
      attached.push({ thing: input.thingName, type: input.thingPrincipalType ?? 'NON_EXCLUSIVE_THING' });
      principalThings.set(input.principal, attached);
      return {};
    });
  mock
    .on(ListThingPrincipalsCommand as never)
    .callsFake(async (input: { thingName: string; nextToken?: string; maxResults?: number }) => {
      log('ListThingPrincipals', input);
      if (!things.has(input.thingName))
        throw new ResourceNotFoundException({ message: 'no such thing', ...meta });
      const all = [...principalThings.entries()]
        .filter(([, attached]) => attached.some((a) => a.thing === input.thingName))
        .map(([principal]) => principal);
      const size = Math.min(input.maxResults ?? 25, state.principalPageSize ?? 25);
      const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
      const end = start + size;
      return {
        principals: all.slice(start, end),
        ...(end < all.length ? { nextToken: String(end) } : {}),
      };
    });
  mock
    .on(GetEffectivePoliciesCommand as never)
    .callsFake(async (input: { principal: string; thingName?: string }) => {
      log('GetEffectivePolicies', input);
      if (input.thingName !== undefined) throw new Error('fake: thing groups are not modelled');
      const certificateId = /cert\/([0-9a-f]{64})$/.exec(input.principal)?.[1];
      if (certificateId === undefined || !state.certificates.has(certificateId)) {
        throw new ResourceNotFoundException({ message: 'no such principal', ...meta });
      }
      const effectivePolicies = [...policyTargets.entries()]
        .filter(([, targets]) => targets.has(input.principal))
        .map(([policyName]) => ({
          policyName,
          policyArn: `arn:aws:iot:${REGION}:${ACCOUNT}:policy/${policyName}`,
          policyDocument: policies.get(policyName),
        }));
      return { effectivePolicies };
    });
  mock
    .on(DetachThingPrincipalCommand as never)
    .callsFake(async (input: { thingName: string; principal: string }) => {
      log('DetachThingPrincipal', input);
      if (!things.has(input.thingName))
        throw new ResourceNotFoundException({ message: 'no such thing', ...meta });
      const left = (principalThings.get(input.principal) ?? []).filter((a) => a.thing !== input.thingName);
      if (left.length > 0) principalThings.set(input.principal, left);
      else principalThings.delete(input.principal);
      return {};
    });
  mock.on(DetachPolicyCommand as never).callsFake(async (input: { policyName: string; target: string }) => {
    log('DetachPolicy', input);
    if (!policies.has(input.policyName))
      throw new ResourceNotFoundException({ message: 'no such policy', ...meta });
    policyTargets.get(input.policyName)?.delete(input.target);
    return {};
  });
  return { mock, things, policies, policyTargets, principalThings, failOnce };
}

export interface RegistryRow {
  ecuId: string;
  vin: string;
  role: string;
  status: string;
  [key: string]: unknown;
}

export function fakeRegistry(rows: readonly RegistryRow[], journal: Journal) {
  const mock = mockAws(DynamoDBDocumentClient);
  const table = new Map<string, RegistryRow>(rows.map((r) => [r.ecuId, { ...r }]));
  /** cert-broker's issued-certificate records by certificate id (ISSUED_TABLE), journaled as `issued:GetItem`. */
  const issued = new Map<string, Record<string, unknown>>();
  const faults: { command: 'GetItem' | 'UpdateItem'; error: Error }[] = [];
  const fault = (command: 'GetItem' | 'UpdateItem') => {
    const at = faults.findIndex((f) => f.command === command);
    const [hit] = at >= 0 ? faults.splice(at, 1) : [];
    if (hit) throw hit.error;
  };
  /** The next `command` fails with `error` (journaled, no state change). */
  const failOnce = (command: 'GetItem' | 'UpdateItem', error: Error) => {
    faults.push({ command, error });
  };
  mock.on(GetCommand as never).callsFake(async (input: { TableName?: string; Key: { ecuId: string } }) => {
    if (input.TableName === ISSUED_TABLE) {
      journal.entries.push({ service: 'issued', command: 'GetItem', input });
      const record = issued.get(String((input.Key as { certificateId?: unknown }).certificateId));
      return { Item: record ? { ...record } : undefined };
    }
    journal.entries.push({ service: 'registry', command: 'GetItem', input });
    fault('GetItem');
    const row = table.get(input.Key.ecuId);
    return { Item: row ? { ...row } : undefined };
  });
  mock
    .on(UpdateCommand as never)
    .callsFake(
      async (input: {
        Key: { ecuId: string };
        ExpressionAttributeValues: Record<string, unknown>;
        ReturnValues?: string;
      }) => {
        journal.entries.push({ service: 'registry', command: 'UpdateItem', input });
        fault('UpdateItem');
        const row = table.get(input.Key.ecuId);
        const v = input.ExpressionAttributeValues;
        if (!row || row.status !== v[':active'] || row.vin !== v[':vin']) {
          throw new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta });
        }
        // UPDATED_OLD: the old values of the attributes the update set, those that existed.
        const old = Object.fromEntries(
          ['certificateId', 'thingName', 'updatedAt']
            .filter((k) => row[k] !== undefined)
            .map((k) => [k, row[k]]),
        );
        row.certificateId = v[':certificateId'];
        row.thingName = v[':thingName'];
        row.updatedAt = v[':updatedAt'];
        return input.ReturnValues === 'UPDATED_OLD' && Object.keys(old).length > 0 ? { Attributes: old } : {};
      },
    );
  return { mock, table, issued, failOnce };
}
