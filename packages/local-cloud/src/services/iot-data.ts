/** AWS IoT data plane (restJson1, signing name `iotdata`). */
import { AwsApiError } from '../errors.js';
import { MAX_PAYLOAD_BYTES } from '../iot-limits.js';
import { restRouter, type ServiceHandler } from '../wire.js';
import type { IotService } from './iot.js';
import type { PublishProperties } from './iot-types.js';

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
        if (req.body.length > MAX_PAYLOAD_BYTES) {
          throw new AwsApiError('RequestEntityTooLargeException', 'Payload exceeds the 128 KB limit', 413);
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
