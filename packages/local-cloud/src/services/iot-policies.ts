/** AWS IoT policies: versions, attachments, effective policies. */
import { randomUUID } from 'node:crypto';
import { AwsApiError } from '../errors.js';
import { epochSeconds, jsonBody, type Route } from '../wire.js';
import type { IotService } from './iot.js';
import { type IotRoute, param as p } from './iot-route.js';
import { validatePolicyDocument } from './iot-types.js';

export function policyRoutes(iot: IotService, r: IotRoute): Route[] {
  return [
    r('POST', '/policies/{policyName}', 'CreatePolicy', (req, params) => {
      const body = jsonBody(req) as { policyDocument?: string };
      const policy = iot.createPolicy(p(params, 'policyName'), String(body.policyDocument ?? ''));
      return {
        body: {
          policyName: policy.policyName,
          policyArn: policy.policyArn,
          policyDocument: iot.defaultDocument(policy),
          policyVersionId: '1',
        },
      };
    }),
    r('GET', '/policies/{policyName}', 'GetPolicy', (_req, params) => {
      const policy = iot.policy(p(params, 'policyName'));
      return {
        body: {
          policyName: policy.policyName,
          policyArn: policy.policyArn,
          policyDocument: iot.defaultDocument(policy),
          defaultVersionId: policy.defaultVersionId,
          creationDate: epochSeconds(policy.creationDate),
          lastModifiedDate: epochSeconds(policy.lastModifiedDate),
          generationId: randomUUID(),
        },
      };
    }),
    r('POST', '/policies/{policyName}/version', 'CreatePolicyVersion', (req, params) => {
      const policy = iot.policy(p(params, 'policyName'));
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
      const policy = iot.policy(p(params, 'policyName'));
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
      const policy = iot.policy(p(params, 'policyName'));
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
    r('DELETE', '/policies/{policyName}/version/{policyVersionId}', 'DeletePolicyVersion', (_req, params) => {
      const policy = iot.policy(p(params, 'policyName'));
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
    }),
    r(
      'PATCH',
      '/policies/{policyName}/version/{policyVersionId}',
      'SetDefaultPolicyVersion',
      (_req, params) => {
        const policy = iot.policy(p(params, 'policyName'));
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
      iot.attachPolicy(p(params, 'policyName'), String(body.target ?? ''));
      return { body: {} };
    }),
    r('POST', '/target-policies/{policyName}', 'DetachPolicy', (req, params) => {
      const body = jsonBody(req) as { target?: string };
      iot.attachments.get(String(body.target ?? ''))?.delete(p(params, 'policyName'));
      return { body: {} };
    }),
    r('POST', '/policy-targets/{policyName}', 'ListTargetsForPolicy', (_req, params) => {
      const name = p(params, 'policyName');
      iot.policy(name);
      const targets = [...iot.attachments.entries()]
        .filter(([, set]) => set.has(name))
        .map(([target]) => target);
      return { body: { targets } };
    }),
    r('POST', '/effective-policies', 'GetEffectivePolicies', (req) => {
      const body = jsonBody(req) as { principal?: string };
      const principal = String(body.principal ?? '');
      if (!/:cert\/[0-9a-f]{64}$/.test(principal)) {
        throw new AwsApiError('InvalidRequestException', 'principal must be a certificate ARN');
      }
      const names = new Set<string>(iot.attachments.get(principal) ?? []);
      const thingName = req.query.get('thingName') ?? undefined;
      for (const group of iot.thingGroups.values()) {
        if (thingName && group.things.has(thingName))
          for (const name of iot.attachments.get(group.arn) ?? []) names.add(name);
      }
      const effectivePolicies = [...names].flatMap((name) => {
        const policy = iot.policies.get(name);
        return policy
          ? [
              {
                policyName: name,
                policyArn: policy.policyArn,
                policyDocument: iot.defaultDocument(policy),
              },
            ]
          : [];
      });
      return { body: { effectivePolicies } };
    }),
    r('POST', '/attached-policies/{target}', 'ListAttachedPolicies', (_req, params) => {
      const names = [...(iot.attachments.get(p(params, 'target')) ?? [])];
      return {
        body: {
          policies: names.map((policyName) => ({ policyName, policyArn: iot.arn('policy', policyName) })),
        },
      };
    }),
  ];
}
