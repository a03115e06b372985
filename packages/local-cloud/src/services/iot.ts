/**
 * AWS IoT control plane (restJson1, signing name `iot`): things and attributes, certificates
 * with the just-in-time-registration states, CA certificates, policies with versions (five at
 * most), policy attachments, thing principals (EXCLUSIVE_THING), thing groups and jobs.
 * The state is public so the MQTT gateway authenticates and authorises against it.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AwsApiError } from '../errors.js';
import { iotCertificateId, x509 } from '../pki.js';
import {
  type ApiRequest,
  epochSeconds,
  jsonBody,
  type Route,
  restRouter,
  type ServiceHandler,
} from '../wire.js';

export type CertificateStatus =
  | 'ACTIVE'
  | 'INACTIVE'
  | 'REVOKED'
  | 'PENDING_TRANSFER'
  | 'REGISTER_INACTIVE'
  | 'PENDING_ACTIVATION';

export interface IotCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly caCertificateId: string | undefined;
  status: CertificateStatus;
  readonly creationDate: Date;
  lastModifiedDate: Date;
  customerVersion: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface IotCaCertificate {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  status: 'ACTIVE' | 'INACTIVE';
  autoRegistrationStatus: 'ENABLE' | 'DISABLE';
  readonly creationDate: Date;
}

export interface IotThing {
  readonly thingName: string;
  readonly thingArn: string;
  readonly thingId: string;
  attributes: Record<string, string>;
  version: number;
}

export interface IotPolicyVersion {
  readonly versionId: string;
  readonly document: string;
  readonly createDate: Date;
}

export interface IotPolicy {
  readonly policyName: string;
  readonly policyArn: string;
  versions: IotPolicyVersion[];
  defaultVersionId: string;
  nextVersion: number;
  readonly creationDate: Date;
  lastModifiedDate: Date;
}

export interface IotJob {
  readonly jobId: string;
  readonly jobArn: string;
  readonly targets: readonly string[];
  readonly document: string | undefined;
  readonly description: string | undefined;
  readonly createdAt: Date;
}

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;

/** The JITR event AWS IoT publishes on `$aws/events/certificates/registered/<caCertificateId>`. */
export interface JitrEvent {
  readonly certificateId: string;
  readonly caCertificateId: string;
  readonly timestamp: number;
  readonly certificateStatus: 'PENDING_ACTIVATION';
  readonly awsAccountId: string;
  readonly certificateRegistrationTimestamp: string;
}

export class IotService extends EventEmitter<{
  publish: [topic: string, payload: Buffer, props: PublishProperties];
}> {
  readonly things = new Map<string, IotThing>();
  readonly certificates = new Map<string, IotCertificate>();
  readonly caCertificates = new Map<string, IotCaCertificate>();
  readonly policies = new Map<string, IotPolicy>();
  /** target ARN (certificate, thing group) -> policy names */
  readonly attachments = new Map<string, Set<string>>();
  /** thing name -> principal -> type */
  readonly thingPrincipals = new Map<string, Map<string, 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING'>>();
  readonly thingGroups = new Map<string, { arn: string; id: string; things: Set<string> }>();
  readonly jobs = new Map<string, IotJob>();
  readonly calls = new Map<string, number>();

  constructor(
    readonly region: string,
    readonly account: string,
  ) {
    super();
  }

  arn(kind: string, name: string): string {
    return `arn:aws:iot:${this.region}:${this.account}:${kind}/${name}`;
  }

  // ---- domain operations (also used in-process by the gateway and the demo) ----

  registerCaCertificate(
    pem: string,
    options: { autoRegistration?: boolean; active?: boolean } = {},
  ): IotCaCertificate {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(pem);
    } catch {
      throw new AwsApiError(
        'CertificateValidationException',
        'The CA certificate is not a valid X.509 certificate.',
      );
    }
    const id = iotCertificateId(pem);
    if (this.caCertificates.has(id)) {
      throw new AwsApiError(
        'ResourceAlreadyExistsException',
        'The CA certificate is already registered.',
        409,
        {
          resourceId: id,
          resourceArn: this.arn('cacert', id),
        },
      );
    }
    void cert;
    const ca: IotCaCertificate = {
      certificateId: id,
      certificateArn: this.arn('cacert', id),
      certificatePem: pem,
      status: options.active === false ? 'INACTIVE' : 'ACTIVE',
      autoRegistrationStatus: options.autoRegistration ? 'ENABLE' : 'DISABLE',
      creationDate: new Date(),
    };
    this.caCertificates.set(id, ca);
    return ca;
  }

  /** The registered CA certificate that issued `cert`, if any (subject and signature checked). */
  async findIssuingCa(cert: x509.X509Certificate): Promise<IotCaCertificate | undefined> {
    for (const ca of this.caCertificates.values()) {
      const caCert = new x509.X509Certificate(ca.certificatePem);
      if (caCert.subject !== cert.issuer) continue;
      if (await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true })) return ca;
    }
    return undefined;
  }

  registerCertificate(
    pem: string,
    caCertificateId: string | undefined,
    status: CertificateStatus,
  ): IotCertificate {
    const cert = new x509.X509Certificate(pem);
    const id = iotCertificateId(pem);
    if (this.certificates.has(id)) {
      throw new AwsApiError(
        'ResourceAlreadyExistsException',
        'The certificate is already provisioned or registered',
        409,
        {
          resourceId: id,
          resourceArn: this.arn('cert', id),
        },
      );
    }
    const now = new Date();
    const record: IotCertificate = {
      certificateId: id,
      certificateArn: this.arn('cert', id),
      certificatePem: pem,
      caCertificateId,
      status,
      creationDate: now,
      lastModifiedDate: now,
      customerVersion: 1,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
    this.certificates.set(id, record);
    return record;
  }

  jitrEvent(cert: IotCertificate): JitrEvent {
    return {
      certificateId: cert.certificateId,
      caCertificateId: cert.caCertificateId ?? '',
      timestamp: Date.now(),
      certificateStatus: 'PENDING_ACTIVATION',
      awsAccountId: this.account,
      certificateRegistrationTimestamp: String(cert.creationDate.getTime()),
    };
  }

  private certificate(id: string): IotCertificate {
    const cert = this.certificates.get(id);
    if (!cert)
      throw new AwsApiError('ResourceNotFoundException', `The certificate ${id} does not exist`, 404);
    return cert;
  }

  thing(name: string): IotThing {
    const thing = this.things.get(name);
    if (!thing) throw new AwsApiError('ResourceNotFoundException', `Thing ${name} cannot be found.`, 404);
    return thing;
  }

  policy(name: string): IotPolicy {
    const policy = this.policies.get(name);
    if (!policy) throw new AwsApiError('ResourceNotFoundException', `Policy not found`, 404);
    return policy;
  }

  createPolicy(name: string, document: string): IotPolicy {
    if (!POLICY_NAME.test(name)) throw new AwsApiError('InvalidRequestException', 'invalid policy name');
    if (this.policies.has(name)) {
      throw new AwsApiError(
        'ResourceAlreadyExistsException',
        'Policy cannot be created - name already exists',
        409,
        {
          resourceId: name,
          resourceArn: this.arn('policy', name),
        },
      );
    }
    validatePolicyDocument(document);
    const now = new Date();
    const policy: IotPolicy = {
      policyName: name,
      policyArn: this.arn('policy', name),
      versions: [{ versionId: '1', document, createDate: now }],
      defaultVersionId: '1',
      nextVersion: 2,
      creationDate: now,
      lastModifiedDate: now,
    };
    this.policies.set(name, policy);
    return policy;
  }

  defaultDocument(policy: IotPolicy): string {
    return policy.versions.find((v) => v.versionId === policy.defaultVersionId)?.document ?? '{}';
  }

  attachPolicy(policyName: string, target: string): void {
    this.policy(policyName);
    if (target.includes(':cert/')) this.certificate(target.slice(target.indexOf(':cert/') + 6));
    const set = this.attachments.get(target) ?? new Set<string>();
    set.add(policyName);
    this.attachments.set(target, set);
  }

  /** Things the principal (certificate ARN) is attached to. */
  principalThings(principal: string): string[] {
    const out: string[] = [];
    for (const [thing, principals] of this.thingPrincipals) if (principals.has(principal)) out.push(thing);
    return out;
  }

  attachThingPrincipal(
    thingName: string,
    principal: string,
    type: 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING',
  ): void {
    this.thing(thingName);
    if (principal.includes(':cert/')) this.certificate(principal.slice(principal.indexOf(':cert/') + 6));
    const others = this.principalThings(principal).filter((t) => t !== thingName);
    const exclusiveElsewhere = others.some(
      (t) => this.thingPrincipals.get(t)?.get(principal) === 'EXCLUSIVE_THING',
    );
    if (exclusiveElsewhere || (type === 'EXCLUSIVE_THING' && others.length > 0)) {
      throw new AwsApiError(
        'InvalidRequestException',
        'Principal is already attached to another thing with thingPrincipalType EXCLUSIVE_THING',
      );
    }
    const map = this.thingPrincipals.get(thingName) ?? new Map();
    map.set(principal, type);
    this.thingPrincipals.set(thingName, map);
  }

  createThingGroup(name: string): { arn: string; id: string; things: Set<string> } {
    const existing = this.thingGroups.get(name);
    if (existing) return existing;
    const group = { arn: this.arn('thinggroup', name), id: randomUUID(), things: new Set<string>() };
    this.thingGroups.set(name, group);
    return group;
  }

  /** Policies in force for a connection: those attached to the certificate and to the thing's groups. */
  effectivePolicies(certificateArn: string, thingName: string | undefined): string[] {
    const docs: string[] = [];
    const names = new Set<string>(this.attachments.get(certificateArn) ?? []);
    if (thingName) {
      for (const group of this.thingGroups.values()) {
        if (group.things.has(thingName)) for (const p of this.attachments.get(group.arn) ?? []) names.add(p);
      }
    }
    for (const name of names) {
      const policy = this.policies.get(name);
      if (policy) docs.push(this.defaultDocument(policy));
    }
    return docs;
  }

  // ---- wire ----

  handler(): ServiceHandler {
    const r = (method: string, path: string, name: string, handle: Route['handle']): Route => ({
      method,
      path,
      name,
      handle: (req, params) => {
        this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
        return handle(req, params);
      },
    });
    const p = (params: Record<string, string>, key: string) => params[key] ?? '';
    const principalHeader = (req: ApiRequest) => {
      const v = req.headers['x-amzn-principal'];
      if (typeof v !== 'string' || v === '')
        throw new AwsApiError('InvalidRequestException', 'principal is required');
      return v;
    };
    return restRouter([
      r('POST', '/things/{thingName}', 'CreateThing', (req, params) => {
        const name = p(params, 'thingName');
        if (!THING_NAME.test(name)) throw new AwsApiError('InvalidRequestException', 'invalid thing name');
        const body = jsonBody(req) as {
          attributePayload?: { attributes?: Record<string, string> };
          thingTypeName?: string;
        };
        const attributes = { ...(body.attributePayload?.attributes ?? {}) };
        const existing = this.things.get(name);
        if (existing) {
          // The real service answers success when the thing exists with the same configuration.
          if (JSON.stringify(sortKeys(existing.attributes)) !== JSON.stringify(sortKeys(attributes))) {
            throw new AwsApiError(
              'ResourceAlreadyExistsException',
              `Thing ${name} already exists in account with different attributes`,
              409,
              {
                resourceId: existing.thingId,
                resourceArn: existing.thingArn,
              },
            );
          }
          return { body: { thingName: name, thingArn: existing.thingArn, thingId: existing.thingId } };
        }
        const thing: IotThing = {
          thingName: name,
          thingArn: this.arn('thing', name),
          thingId: randomUUID(),
          attributes,
          version: 1,
        };
        this.things.set(name, thing);
        return { body: { thingName: name, thingArn: thing.thingArn, thingId: thing.thingId } };
      }),
      r('GET', '/things/{thingName}', 'DescribeThing', (_req, params) => {
        const t = this.thing(p(params, 'thingName'));
        return {
          body: {
            defaultClientId: t.thingName,
            thingName: t.thingName,
            thingId: t.thingId,
            thingArn: t.thingArn,
            attributes: t.attributes,
            version: t.version,
          },
        };
      }),
      r('PATCH', '/things/{thingName}', 'UpdateThing', (req, params) => {
        const t = this.thing(p(params, 'thingName'));
        const body = jsonBody(req) as {
          attributePayload?: { attributes?: Record<string, string>; merge?: boolean };
        };
        const attrs = body.attributePayload?.attributes ?? {};
        t.attributes = body.attributePayload?.merge ? { ...t.attributes, ...attrs } : { ...attrs };
        for (const [k, v] of Object.entries(t.attributes)) if (v === '') delete t.attributes[k];
        t.version += 1;
        return { body: {} };
      }),
      r('GET', '/things', 'ListThings', () => ({
        body: {
          things: [...this.things.values()].map((t) => ({
            thingName: t.thingName,
            thingArn: t.thingArn,
            attributes: t.attributes,
            version: t.version,
          })),
        },
      })),
      r('DELETE', '/things/{thingName}', 'DeleteThing', (_req, params) => {
        const name = p(params, 'thingName');
        this.thing(name);
        if ((this.thingPrincipals.get(name)?.size ?? 0) > 0) {
          throw new AwsApiError(
            'InvalidRequestException',
            'Cannot delete. Thing is still attached to one or more principals',
          );
        }
        this.things.delete(name);
        return { body: {} };
      }),
      r('PUT', '/things/{thingName}/principals', 'AttachThingPrincipal', (req, params) => {
        const type =
          req.query.get('thingPrincipalType') === 'EXCLUSIVE_THING'
            ? 'EXCLUSIVE_THING'
            : 'NON_EXCLUSIVE_THING';
        this.attachThingPrincipal(p(params, 'thingName'), principalHeader(req), type);
        return { body: {} };
      }),
      r('GET', '/things/{thingName}/principals', 'ListThingPrincipals', (_req, params) => {
        this.thing(p(params, 'thingName'));
        return {
          body: { principals: [...(this.thingPrincipals.get(p(params, 'thingName'))?.keys() ?? [])] },
        };
      }),
      r('DELETE', '/things/{thingName}/principals', 'DetachThingPrincipal', (req, params) => {
        this.thingPrincipals.get(p(params, 'thingName'))?.delete(principalHeader(req));
        return { body: {} };
      }),
      r('GET', '/principals/things', 'ListPrincipalThings', (req) => ({
        body: { things: this.principalThings(principalHeader(req)) },
      })),
      r('GET', '/things/{thingName}/thing-groups', 'ListThingGroupsForThing', (_req, params) => {
        const name = p(params, 'thingName');
        this.thing(name);
        const groups = [...this.thingGroups.entries()]
          .filter(([, g]) => g.things.has(name))
          .map(([groupName, g]) => ({ groupName, groupArn: g.arn }));
        return { body: { thingGroups: groups } };
      }),
      r('GET', '/certificates/{certificateId}', 'DescribeCertificate', (_req, params) => {
        const c = this.certificate(p(params, 'certificateId'));
        return {
          body: {
            certificateDescription: {
              certificateArn: c.certificateArn,
              certificateId: c.certificateId,
              ...(c.caCertificateId ? { caCertificateId: c.caCertificateId } : {}),
              status: c.status,
              certificatePem: c.certificatePem,
              ownedBy: this.account,
              creationDate: epochSeconds(c.creationDate),
              lastModifiedDate: epochSeconds(c.lastModifiedDate),
              customerVersion: c.customerVersion,
              generationId: randomUUID(),
              validity: { notBefore: epochSeconds(c.notBefore), notAfter: epochSeconds(c.notAfter) },
              certificateMode: 'DEFAULT',
            },
          },
        };
      }),
      r('PUT', '/certificates/{certificateId}', 'UpdateCertificate', (req, params) => {
        const c = this.certificate(p(params, 'certificateId'));
        const next = req.query.get('newStatus') ?? '';
        if (!['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_ACTIVATION'].includes(next)) {
          throw new AwsApiError('InvalidRequestException', `newStatus ${next} is not valid`);
        }
        if (c.status === 'REVOKED' && next !== 'REVOKED') {
          throw new AwsApiError(
            'CertificateStateException',
            'Certificate is revoked and cannot be changed.',
            406,
          );
        }
        c.status = next as CertificateStatus;
        c.lastModifiedDate = new Date();
        c.customerVersion += 1;
        return { body: {} };
      }),
      r('GET', '/certificates', 'ListCertificates', () => ({
        body: {
          certificates: [...this.certificates.values()].map((c) => ({
            certificateArn: c.certificateArn,
            certificateId: c.certificateId,
            status: c.status,
            creationDate: epochSeconds(c.creationDate),
            certificateMode: 'DEFAULT',
          })),
        },
      })),
      r('POST', '/certificate/register', 'RegisterCertificate', async (req) => {
        const body = jsonBody(req) as {
          certificatePem?: string;
          caCertificatePem?: string;
          status?: string;
          setAsActive?: boolean;
        };
        const pem = String(body.certificatePem ?? '');
        const cert = parseCertificate(pem);
        const ca = await this.findIssuingCa(cert);
        if (!ca)
          throw new AwsApiError(
            'CertificateValidationException',
            'The certificate is not signed by a registered CA.',
          );
        const status =
          (body.status as CertificateStatus | undefined) ??
          (req.query.get('setAsActive') === 'true' ? 'ACTIVE' : 'INACTIVE');
        const c = this.registerCertificate(pem, ca.certificateId, status);
        return { body: { certificateArn: c.certificateArn, certificateId: c.certificateId } };
      }),
      r('POST', '/certificate/register-no-ca', 'RegisterCertificateWithoutCA', (req) => {
        const body = jsonBody(req) as { certificatePem?: string; status?: string };
        const pem = String(body.certificatePem ?? '');
        parseCertificate(pem);
        const c = this.registerCertificate(
          pem,
          undefined,
          (body.status as CertificateStatus | undefined) ?? 'INACTIVE',
        );
        return { body: { certificateArn: c.certificateArn, certificateId: c.certificateId } };
      }),
      r('GET', '/cacertificate/{certificateId}', 'DescribeCACertificate', (_req, params) => {
        const ca = this.caCertificates.get(p(params, 'certificateId'));
        if (!ca) throw new AwsApiError('ResourceNotFoundException', 'The CA certificate does not exist', 404);
        const cert = new x509.X509Certificate(ca.certificatePem);
        return {
          body: {
            certificateDescription: {
              certificateArn: ca.certificateArn,
              certificateId: ca.certificateId,
              status: ca.status,
              certificatePem: ca.certificatePem,
              ownedBy: this.account,
              creationDate: epochSeconds(ca.creationDate),
              autoRegistrationStatus: ca.autoRegistrationStatus,
              lastModifiedDate: epochSeconds(ca.creationDate),
              customerVersion: 1,
              generationId: randomUUID(),
              validity: { notBefore: epochSeconds(cert.notBefore), notAfter: epochSeconds(cert.notAfter) },
              certificateMode: 'DEFAULT',
            },
          },
        };
      }),
      r('POST', '/cacertificate', 'RegisterCACertificate', (req) => {
        const body = jsonBody(req) as { caCertificate?: string };
        const ca = this.registerCaCertificate(String(body.caCertificate ?? ''), {
          autoRegistration: req.query.get('allowAutoRegistration') === 'true',
          active: req.query.get('setAsActive') === 'true',
        });
        return { body: { certificateArn: ca.certificateArn, certificateId: ca.certificateId } };
      }),
      r('POST', '/policies/{policyName}', 'CreatePolicy', (req, params) => {
        const body = jsonBody(req) as { policyDocument?: string };
        const policy = this.createPolicy(p(params, 'policyName'), String(body.policyDocument ?? ''));
        return {
          body: {
            policyName: policy.policyName,
            policyArn: policy.policyArn,
            policyDocument: this.defaultDocument(policy),
            policyVersionId: '1',
          },
        };
      }),
      r('GET', '/policies/{policyName}', 'GetPolicy', (_req, params) => {
        const policy = this.policy(p(params, 'policyName'));
        return {
          body: {
            policyName: policy.policyName,
            policyArn: policy.policyArn,
            policyDocument: this.defaultDocument(policy),
            defaultVersionId: policy.defaultVersionId,
            creationDate: epochSeconds(policy.creationDate),
            lastModifiedDate: epochSeconds(policy.lastModifiedDate),
            generationId: randomUUID(),
          },
        };
      }),
      r('POST', '/policies/{policyName}/version', 'CreatePolicyVersion', (req, params) => {
        const policy = this.policy(p(params, 'policyName'));
        const body = jsonBody(req) as { policyDocument?: string };
        const document = String(body.policyDocument ?? '');
        validatePolicyDocument(document);
        if (policy.versions.length >= 5) {
          throw new AwsApiError(
            'VersionsLimitExceededException',
            `The policy ${policy.policyName} already has the maximum number of versions (5)`,
            409,
          );
        }
        const versionId = String(policy.nextVersion++);
        policy.versions.push({ versionId, document, createDate: new Date() });
        const setAsDefault = req.query.get('setAsDefault') === 'true';
        if (setAsDefault) policy.defaultVersionId = versionId;
        policy.lastModifiedDate = new Date();
        return {
          body: {
            policyArn: policy.policyArn,
            policyDocument: document,
            policyVersionId: versionId,
            isDefaultVersion: setAsDefault,
          },
        };
      }),
      r('GET', '/policies/{policyName}/version', 'ListPolicyVersions', (_req, params) => {
        const policy = this.policy(p(params, 'policyName'));
        return {
          body: {
            policyVersions: [...policy.versions].reverse().map((v) => ({
              versionId: v.versionId,
              isDefaultVersion: v.versionId === policy.defaultVersionId,
              createDate: epochSeconds(v.createDate),
            })),
          },
        };
      }),
      r('GET', '/policies/{policyName}/version/{policyVersionId}', 'GetPolicyVersion', (_req, params) => {
        const policy = this.policy(p(params, 'policyName'));
        const v = policy.versions.find((x) => x.versionId === p(params, 'policyVersionId'));
        if (!v) throw new AwsApiError('ResourceNotFoundException', 'Policy version not found', 404);
        return {
          body: {
            policyArn: policy.policyArn,
            policyName: policy.policyName,
            policyDocument: v.document,
            policyVersionId: v.versionId,
            isDefaultVersion: v.versionId === policy.defaultVersionId,
            creationDate: epochSeconds(v.createDate),
            lastModifiedDate: epochSeconds(v.createDate),
            generationId: randomUUID(),
          },
        };
      }),
      r(
        'DELETE',
        '/policies/{policyName}/version/{policyVersionId}',
        'DeletePolicyVersion',
        (_req, params) => {
          const policy = this.policy(p(params, 'policyName'));
          const id = p(params, 'policyVersionId');
          if (!policy.versions.some((v) => v.versionId === id)) {
            throw new AwsApiError('ResourceNotFoundException', 'Policy version not found', 404);
          }
          if (id === policy.defaultVersionId) {
            throw new AwsApiError(
              'DeleteConflictException',
              'Cannot delete the default version of a policy',
              409,
            );
          }
          policy.versions = policy.versions.filter((v) => v.versionId !== id);
          return { body: {} };
        },
      ),
      r(
        'PATCH',
        '/policies/{policyName}/version/{policyVersionId}',
        'SetDefaultPolicyVersion',
        (_req, params) => {
          const policy = this.policy(p(params, 'policyName'));
          const id = p(params, 'policyVersionId');
          if (!policy.versions.some((v) => v.versionId === id)) {
            throw new AwsApiError('ResourceNotFoundException', 'Policy version not found', 404);
          }
          policy.defaultVersionId = id;
          return { body: {} };
        },
      ),
      r('PUT', '/target-policies/{policyName}', 'AttachPolicy', (req, params) => {
        const body = jsonBody(req) as { target?: string };
        this.attachPolicy(p(params, 'policyName'), String(body.target ?? ''));
        return { body: {} };
      }),
      r('POST', '/target-policies/{policyName}', 'DetachPolicy', (req, params) => {
        const body = jsonBody(req) as { target?: string };
        this.attachments.get(String(body.target ?? ''))?.delete(p(params, 'policyName'));
        return { body: {} };
      }),
      r('POST', '/policy-targets/{policyName}', 'ListTargetsForPolicy', (_req, params) => {
        const name = p(params, 'policyName');
        this.policy(name);
        const targets = [...this.attachments.entries()]
          .filter(([, set]) => set.has(name))
          .map(([target]) => target);
        return { body: { targets } };
      }),
      r('GET', '/thing-groups/{thingGroupName}/things', 'ListThingsInThingGroup', (_req, params) => {
        const g = this.thingGroups.get(p(params, 'thingGroupName'));
        if (!g) throw new AwsApiError('ResourceNotFoundException', 'Thing group not found', 404);
        return { body: { things: [...g.things] } };
      }),
      r('PUT', '/thing-groups/removeThingFromThingGroup', 'RemoveThingFromThingGroup', (req) => {
        const body = jsonBody(req) as { thingGroupName?: string; thingName?: string };
        this.thingGroups.get(String(body.thingGroupName ?? ''))?.things.delete(String(body.thingName ?? ''));
        return { body: {} };
      }),
      r('POST', '/effective-policies', 'GetEffectivePolicies', (req) => {
        const body = jsonBody(req) as { principal?: string };
        const principal = String(body.principal ?? '');
        if (!/:cert\/[0-9a-f]{64}$/.test(principal)) {
          throw new AwsApiError('InvalidRequestException', 'principal must be a certificate ARN');
        }
        const names = new Set<string>(this.attachments.get(principal) ?? []);
        const thingName = req.query.get('thingName') ?? undefined;
        for (const group of this.thingGroups.values()) {
          if (thingName && group.things.has(thingName))
            for (const name of this.attachments.get(group.arn) ?? []) names.add(name);
        }
        const effectivePolicies = [...names].flatMap((name) => {
          const policy = this.policies.get(name);
          return policy
            ? [
                {
                  policyName: name,
                  policyArn: policy.policyArn,
                  policyDocument: this.defaultDocument(policy),
                },
              ]
            : [];
        });
        return { body: { effectivePolicies } };
      }),
      r('POST', '/attached-policies/{target}', 'ListAttachedPolicies', (_req, params) => {
        const names = [...(this.attachments.get(p(params, 'target')) ?? [])];
        return {
          body: {
            policies: names.map((policyName) => ({ policyName, policyArn: this.arn('policy', policyName) })),
          },
        };
      }),
      r('POST', '/thing-groups/{thingGroupName}', 'CreateThingGroup', (_req, params) => {
        const name = p(params, 'thingGroupName');
        const g = this.createThingGroup(name);
        return { body: { thingGroupName: name, thingGroupArn: g.arn, thingGroupId: g.id } };
      }),
      r('GET', '/thing-groups/{thingGroupName}', 'DescribeThingGroup', (_req, params) => {
        const name = p(params, 'thingGroupName');
        const g = this.thingGroups.get(name);
        if (!g) throw new AwsApiError('ResourceNotFoundException', `Thing group ${name} not found`, 404);
        return { body: { thingGroupName: name, thingGroupArn: g.arn, thingGroupId: g.id, version: 1 } };
      }),
      r('PUT', '/thing-groups/addThingToThingGroup', 'AddThingToThingGroup', (req) => {
        const body = jsonBody(req) as {
          thingGroupName?: string;
          thingGroupArn?: string;
          thingName?: string;
          thingArn?: string;
        };
        const groupName =
          body.thingGroupName ??
          String(body.thingGroupArn ?? '')
            .split('/')
            .pop() ??
          '';
        const group = this.thingGroups.get(groupName);
        if (!group)
          throw new AwsApiError('ResourceNotFoundException', `Thing group ${groupName} not found`, 404);
        const thingName =
          body.thingName ??
          String(body.thingArn ?? '')
            .split('/')
            .pop() ??
          '';
        this.thing(thingName);
        group.things.add(thingName);
        return { body: {} };
      }),
      r('PUT', '/jobs/{jobId}', 'CreateJob', (req, params) => {
        const jobId = p(params, 'jobId');
        if (this.jobs.has(jobId)) {
          throw new AwsApiError('ResourceAlreadyExistsException', `Job ${jobId} already exists`, 409, {
            resourceId: jobId,
            resourceArn: this.arn('job', jobId),
          });
        }
        const body = jsonBody(req) as { targets?: string[]; document?: string; description?: string };
        const job: IotJob = {
          jobId,
          jobArn: this.arn('job', jobId),
          targets: body.targets ?? [],
          document: body.document,
          description: body.description,
          createdAt: new Date(),
        };
        this.jobs.set(jobId, job);
        return {
          body: { jobArn: job.jobArn, jobId, ...(job.description ? { description: job.description } : {}) },
        };
      }),
      r('GET', '/jobs/{jobId}', 'DescribeJob', (_req, params) => {
        const job = this.jobs.get(p(params, 'jobId'));
        if (!job) throw new AwsApiError('ResourceNotFoundException', 'Job not found', 404);
        return {
          body: {
            job: {
              jobArn: job.jobArn,
              jobId: job.jobId,
              status: 'IN_PROGRESS',
              targets: job.targets,
              description: job.description,
              createdAt: epochSeconds(job.createdAt),
            },
            documentSource: undefined,
          },
        };
      }),
    ]);
  }
}

export interface PublishProperties {
  readonly qos: number;
  readonly retain: boolean;
  readonly contentType?: string;
  readonly responseTopic?: string;
  readonly messageExpiry?: number;
  readonly correlationData?: Buffer;
  readonly userProperties?: Record<string, string | string[]>;
}

/** IoT data plane (restJson1, signing name `iotdata`): Publish, handed to the MQTT gateway. */
export function iotDataHandler(
  iot: IotService,
  published: { topic: string; payload: Buffer; props: PublishProperties }[],
): ServiceHandler {
  return restRouter([
    {
      method: 'POST',
      path: '/topics/{topic}',
      name: 'Publish',
      handle: (req, params) => {
        iot.calls.set('Publish', (iot.calls.get('Publish') ?? 0) + 1);
        const topic = params.topic ?? '';
        if (topic === '' || topic.includes('+') || topic.includes('#')) {
          throw new AwsApiError('InvalidRequestException', 'Invalid topic name', 400);
        }
        const qos = Number(req.query.get('qos') ?? '0');
        if (qos !== 0 && qos !== 1) throw new AwsApiError('InvalidRequestException', 'qos must be 0 or 1');
        const correlation = req.headers['x-amz-mqtt5-correlation-data'];
        const userProps = req.headers['x-amz-mqtt5-user-properties'];
        const props: PublishProperties = {
          qos,
          retain: req.query.get('retain') === 'true',
          ...(req.query.get('contentType') ? { contentType: String(req.query.get('contentType')) } : {}),
          ...(req.query.get('responseTopic')
            ? { responseTopic: String(req.query.get('responseTopic')) }
            : {}),
          ...(req.query.get('messageExpiry')
            ? { messageExpiry: Number(req.query.get('messageExpiry')) }
            : {}),
          ...(typeof correlation === 'string' ? { correlationData: Buffer.from(correlation, 'base64') } : {}),
          ...(typeof userProps === 'string' ? { userProperties: decodeUserProperties(userProps) } : {}),
        };
        published.push({ topic, payload: req.body, props });
        iot.emit('publish', topic, req.body, props);
        return { body: {} };
      },
    },
  ]);
}

function decodeUserProperties(header: string): Record<string, string | string[]> {
  try {
    const list = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Record<string, string>[];
    const out: Record<string, string | string[]> = {};
    for (const item of list) for (const [k, v] of Object.entries(item)) out[k] = v;
    return out;
  } catch {
    return {};
  }
}

function parseCertificate(pem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw new AwsApiError('CertificateValidationException', 'Certificate is not valid.');
  }
}

function validatePolicyDocument(document: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new AwsApiError('MalformedPolicyException', 'Policy document is not valid JSON');
  }
  const statements = (parsed as { Statement?: unknown }).Statement;
  if (!parsed || typeof parsed !== 'object' || statements === undefined) {
    throw new AwsApiError('MalformedPolicyException', 'Policy document must have a Statement');
  }
  if (document.replace(/\s/g, '').length > 2048) {
    throw new AwsApiError('MalformedPolicyException', 'Policy document exceeds 2048 characters');
  }
}

function sortKeys(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}
