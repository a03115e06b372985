/**
 * AWS IoT Core limits the local cloud enforces where AWS does, each with the page that states it.
 *
 * "The payload for every publish request can be no larger than 128 KB. AWS IoT Core rejects
 * publish and connect requests larger than this size." AWS IoT Core message broker quotas,
 * https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits
 * (a publish over it is a CLIENT_ERROR PAYLOAD_LIMIT_EXCEEDED:
 * https://docs.aws.amazon.com/iot/latest/developerguide/topicdata.html). The data plane's
 * Publish answers RequestEntityTooLargeException (HTTP 413):
 * https://docs.aws.amazon.com/iot/latest/apireference/API_iotdata_Publish.html
 */
export const MAX_PAYLOAD_BYTES = 128 * 1024;
