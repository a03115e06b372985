/**
 * AWS IoT control plane state and domain operations (the wire is iot-api.ts with one route
 * module per sub-service: iot-registry, iot-certificates, iot-policies, iot-groups-jobs; the data
 * plane is iot-data.ts): things and attributes, certificates
 * with the just-in-time-registration states, CA certificates, policies with versions (five at
 * most), policy attachments, thing principals (EXCLUSIVE_THING), thing groups and jobs.
 * The state is public so the MQTT gateway authenticates and authorises against it.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { AwsApiError } from '../errors.js';
import { iotCertificateId, x509 } from '../pki.js';
import {
  type CertificateStatus,
  type IotCaCertificate,
  type IotCertificate,
  type IotJob,
  type IotPolicy,
  type IotThing,
  type JitrEvent,
  POLICY_NAME,
  type PublishProperties,
  validatePolicyDocument,
} from './iot-types.js';

export type {
  CertificateStatus,
  IotCaCertificate,
  IotCertificate,
  IotJob,
  IotPolicy,
  IotPolicyVersion,
  IotThing,
  JitrEvent,
  PublishProperties,
} from './iot-types.js';

export type ThingPrincipalType = 'EXCLUSIVE_THING' | 'NON_EXCLUSIVE_THING';

export class IotService extends EventEmitter<{
  publish: [topic: string, payload: Buffer, props: PublishProperties];
}> {
  readonly things = new Map<string, IotThing>();
  readonly certificates = new Map<string, IotCertificate>();
  readonly caCertificates = new Map<string, IotCaCertificate>();
  readonly policies = new Map<string, IotPolicy>();
  /** target ARN (certificate, thing group) -> policy names */
  readonly attachments = new Map<string, Set<string>>();
  /** thing name -> principal -> type; changed only through attach/detachThingPrincipal and deleteThing. */
  private readonly principalsOfThing = new Map<string, Map<string, ThingPrincipalType>>();
  /** principal -> thing names: the reverse of `principalsOfThing`, kept in step with it. */
  private readonly thingsOfPrincipal = new Map<string, Set<string>>();
  readonly thingGroups = new Map<string, { arn: string; id: string; things: Set<string> }>();
  readonly jobs = new Map<string, IotJob>();
  readonly calls = new Map<string, number>();

  constructor(
    readonly region: string,
    readonly account: string,
  ) {
    super();
  }

  /** thing name -> principal -> type (read-only: attach, detach and delete keep the reverse index). */
  get thingPrincipals(): ReadonlyMap<string, ReadonlyMap<string, ThingPrincipalType>> {
    return this.principalsOfThing;
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

  certificate(id: string): IotCertificate {
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

  /** Things the principal (certificate ARN) is attached to, in the order it was attached to them. */
  principalThings(principal: string): string[] {
    return [...(this.thingsOfPrincipal.get(principal) ?? [])];
  }

  attachThingPrincipal(thingName: string, principal: string, type: ThingPrincipalType): void {
    this.thing(thingName);
    if (principal.includes(':cert/')) this.certificate(principal.slice(principal.indexOf(':cert/') + 6));
    const others = this.principalThings(principal).filter((t) => t !== thingName);
    const exclusiveElsewhere = others.some(
      (t) => this.principalsOfThing.get(t)?.get(principal) === 'EXCLUSIVE_THING',
    );
    if (exclusiveElsewhere || (type === 'EXCLUSIVE_THING' && others.length > 0)) {
      throw new AwsApiError(
        'InvalidRequestException',
        'Principal is already attached to another thing with thingPrincipalType EXCLUSIVE_THING',
      );
    }
    const map = this.principalsOfThing.get(thingName) ?? new Map<string, ThingPrincipalType>();
    map.set(principal, type);
    this.principalsOfThing.set(thingName, map);
    const things = this.thingsOfPrincipal.get(principal) ?? new Set<string>();
    things.add(thingName);
    this.thingsOfPrincipal.set(principal, things);
  }

  /** DetachThingPrincipal: succeeds whether or not the principal was attached (as the route always did). */
  detachThingPrincipal(thingName: string, principal: string): void {
    const map = this.principalsOfThing.get(thingName);
    if (!map?.delete(principal)) return;
    if (map.size === 0) this.principalsOfThing.delete(thingName);
    const things = this.thingsOfPrincipal.get(principal);
    things?.delete(thingName);
    if (things?.size === 0) this.thingsOfPrincipal.delete(principal);
  }

  /** DeleteThing: refused while a principal is attached, as AWS IoT does. */
  deleteThing(name: string): void {
    this.thing(name);
    if ((this.principalsOfThing.get(name)?.size ?? 0) > 0) {
      throw new AwsApiError(
        'InvalidRequestException',
        'Cannot delete. Thing is still attached to one or more principals',
      );
    }
    this.things.delete(name);
    this.principalsOfThing.delete(name);
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
}
