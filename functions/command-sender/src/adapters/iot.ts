import { type IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import type { MqttMessage, Publisher } from '../ports.js';

/**
 * IoT Data Plane `Publish`, QoS 1, with the MQTT 5 properties of docs/architecture.md §6.
 * @example await iotPublisher(iotData).publish(message);
 */
export function iotPublisher(client: IoTDataPlaneClient): Publisher {
  return {
    async publish(message: MqttMessage) {
      await client.send(
        new PublishCommand({
          topic: message.topic,
          qos: 1,
          retain: false,
          payload: new TextEncoder().encode(message.payload),
          payloadFormatIndicator: 'UTF8_DATA',
          contentType: 'application/json',
          responseTopic: message.responseTopic,
          correlationData: message.correlationData,
          messageExpiry: message.messageExpirySeconds,
        }),
      );
    },
  };
}
