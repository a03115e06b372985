/** AWS IoT registry: things, their attributes and principals, their thing groups. */
import { randomUUID } from 'node:crypto';
import { AwsApiError } from '../errors.js';
import { jsonBody, type Route } from '../wire.js';
import type { IotService } from './iot.js';
import { type IotRoute, param as p, principalHeader } from './iot-route.js';
import { type IotThing, sortKeys, THING_NAME } from './iot-types.js';

export function registryRoutes(iot: IotService, r: IotRoute): Route[] {
  return [
    r('POST', '/things/{thingName}', 'CreateThing', (req, params) => {
      const name = p(params, 'thingName');
      if (!THING_NAME.test(name)) throw new AwsApiError('InvalidRequestException', 'invalid thing name');
      const body = jsonBody(req) as {
        attributePayload?: { attributes?: Record<string, string> };
        thingTypeName?: string;
      };
      const attributes = { ...(body.attributePayload?.attributes ?? {}) };
      const existing = iot.things.get(name);
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
        thingArn: iot.arn('thing', name),
        thingId: randomUUID(),
        attributes,
        version: 1,
      };
      iot.things.set(name, thing);
      return { body: { thingName: name, thingArn: thing.thingArn, thingId: thing.thingId } };
    }),
    r('GET', '/things/{thingName}', 'DescribeThing', (_req, params) => {
      const t = iot.thing(p(params, 'thingName'));
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
      const t = iot.thing(p(params, 'thingName'));
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
        things: [...iot.things.values()].map((t) => ({
          thingName: t.thingName,
          thingArn: t.thingArn,
          attributes: t.attributes,
          version: t.version,
        })),
      },
    })),
    r('DELETE', '/things/{thingName}', 'DeleteThing', (_req, params) => {
      iot.deleteThing(p(params, 'thingName'));
      return { body: {} };
    }),
    r('PUT', '/things/{thingName}/principals', 'AttachThingPrincipal', (req, params) => {
      const type =
        req.query.get('thingPrincipalType') === 'EXCLUSIVE_THING' ? 'EXCLUSIVE_THING' : 'NON_EXCLUSIVE_THING';
      iot.attachThingPrincipal(p(params, 'thingName'), principalHeader(req), type);
      return { body: {} };
    }),
    r('GET', '/things/{thingName}/principals', 'ListThingPrincipals', (_req, params) => {
      iot.thing(p(params, 'thingName'));
      return {
        body: { principals: [...(iot.thingPrincipals.get(p(params, 'thingName'))?.keys() ?? [])] },
      };
    }),
    r('DELETE', '/things/{thingName}/principals', 'DetachThingPrincipal', (req, params) => {
      iot.detachThingPrincipal(p(params, 'thingName'), principalHeader(req));
      return { body: {} };
    }),
    r('GET', '/principals/things', 'ListPrincipalThings', (req) => ({
      body: { things: iot.principalThings(principalHeader(req)) },
    })),
    r('GET', '/things/{thingName}/thing-groups', 'ListThingGroupsForThing', (_req, params) => {
      const name = p(params, 'thingName');
      iot.thing(name);
      const groups = [...iot.thingGroups.entries()]
        .filter(([, g]) => g.things.has(name))
        .map(([groupName, g]) => ({ groupName, groupArn: g.arn }));
      return { body: { thingGroups: groups } };
    }),
  ];
}
