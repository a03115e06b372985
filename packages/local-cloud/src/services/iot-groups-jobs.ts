import { AwsApiError } from '../errors.js';
import { epochSeconds, jsonBody, type Route } from '../wire.js';
import type { IotService } from './iot.js';
import { type IotRoute, param as p } from './iot-route.js';
import type { IotJob } from './iot-types.js';

export function groupAndJobRoutes(iot: IotService, r: IotRoute): Route[] {
  return [
    r('GET', '/thing-groups/{thingGroupName}/things', 'ListThingsInThingGroup', (_req, params) => {
      const g = iot.thingGroups.get(p(params, 'thingGroupName'));
      if (!g) throw new AwsApiError('ResourceNotFoundException', 'Thing group not found', 404);
      return { body: { things: [...g.things] } };
    }),
    r('PUT', '/thing-groups/removeThingFromThingGroup', 'RemoveThingFromThingGroup', (req) => {
      const body = jsonBody(req) as { thingGroupName?: string; thingName?: string };
      iot.thingGroups.get(String(body.thingGroupName ?? ''))?.things.delete(String(body.thingName ?? ''));
      return { body: {} };
    }),
    r('POST', '/thing-groups/{thingGroupName}', 'CreateThingGroup', (_req, params) => {
      const name = p(params, 'thingGroupName');
      const g = iot.createThingGroup(name);
      return { body: { thingGroupName: name, thingGroupArn: g.arn, thingGroupId: g.id } };
    }),
    r('GET', '/thing-groups/{thingGroupName}', 'DescribeThingGroup', (_req, params) => {
      const name = p(params, 'thingGroupName');
      const g = iot.thingGroups.get(name);
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
      const group = iot.thingGroups.get(groupName);
      if (!group)
        throw new AwsApiError('ResourceNotFoundException', `Thing group ${groupName} not found`, 404);
      const thingName =
        body.thingName ??
        String(body.thingArn ?? '')
          .split('/')
          .pop() ??
        '';
      iot.thing(thingName);
      group.things.add(thingName);
      return { body: {} };
    }),
    r('PUT', '/jobs/{jobId}', 'CreateJob', (req, params) => {
      const jobId = p(params, 'jobId');
      if (iot.jobs.has(jobId)) {
        throw new AwsApiError('ResourceAlreadyExistsException', `Job ${jobId} already exists`, 409, {
          resourceId: jobId,
          resourceArn: iot.arn('job', jobId),
        });
      }
      const body = jsonBody(req) as { targets?: string[]; document?: string; description?: string };
      const job: IotJob = {
        jobId,
        jobArn: iot.arn('job', jobId),
        targets: body.targets ?? [],
        document: body.document,
        description: body.description,
        createdAt: new Date(),
      };
      iot.jobs.set(jobId, job);
      return {
        body: { jobArn: job.jobArn, jobId, ...(job.description ? { description: job.description } : {}) },
      };
    }),
    r('GET', '/jobs/{jobId}', 'DescribeJob', (_req, params) => {
      const job = iot.jobs.get(p(params, 'jobId'));
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
  ];
}
