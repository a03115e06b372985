/** MQTT messages, reason codes and topic filters, as the local gateway's broker uses them. */
import type { IPublishPacket } from 'mqtt-packet';

/** The MQTT 5 properties a PUBLISH carries through the broker (MQTT 5 section 3.3.2.3). */
export type MessageProperties = NonNullable<IPublishPacket['properties']>;

export interface BrokerMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly properties?: MessageProperties;
  /** When the broker received it (message expiry counts from here). */
  readonly receivedAt: number;
}

/** MQTT 5 reason codes the gateway uses (MQTT 5 section 2.4). */
export const Reason = {
  success: 0x00,
  unspecified: 0x80,
  malformed: 0x81,
  protocolError: 0x82,
  clientIdNotValid: 0x85,
  notAuthorized: 0x87,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetTooLarge: 0x95,
  topicAliasInvalid: 0x94,
  quotaExceeded: 0x97,
  qosNotSupported: 0x9b,
  sharedSubscriptionsNotSupported: 0x9e,
} as const;

/**
 * MQTT topic filter match (`+` one level, `#` the rest). As in AWS IoT Core, `a/#` does not match
 * the parent `a` ("a subscription to the topic sensor/# receives messages published to the topics
 * sensor/, sensor/temperature, ... but not messages published to sensor",
 * https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-differences).
 * The broker routes through its index (mqtt-subscriptions.ts), which must agree with this.
 */
export function topicMatches(filter: string, topic: string): boolean {
  // MQTT 4.7.2 (3.1.1 and 5): a filter starting with `#` or `+` does not match a topic starting
  // with `$` (`$aws/...` reaches only filters that name its first level).
  if (topic.startsWith('$') && (filter.startsWith('#') || filter.startsWith('+'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (i >= t.length) return false;
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A topic filter is well formed (MQTT 4.7.1): `#` only last and alone in its level, `+` alone in its level. */
export function validTopicFilter(filter: string): boolean {
  if (filter === '') return false;
  const levels = filter.split('/');
  return levels.every(
    (level, i) =>
      (level === '#' ? i === levels.length - 1 : !level.includes('#')) &&
      (level === '+' || !level.includes('+')),
  );
}

const FORWARDED: readonly (keyof MessageProperties)[] = [
  'payloadFormatIndicator',
  'contentType',
  'responseTopic',
  'correlationData',
  'userProperties',
];

/** The properties a subscriber receives: the publisher's, with the expiry interval counted down (MQTT 5 3.3.2.3.3). */
export function deliveredProperties(message: BrokerMessage, now: number): MessageProperties | undefined {
  const from = message.properties;
  if (!from) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of FORWARDED) if (from[key] !== undefined) out[key] = from[key];
  if (from.messageExpiryInterval !== undefined) {
    const elapsed = Math.floor((now - message.receivedAt) / 1000);
    out.messageExpiryInterval = Math.max(0, from.messageExpiryInterval - elapsed);
  }
  return Object.keys(out).length > 0 ? (out as MessageProperties) : undefined;
}

export function expired(message: BrokerMessage, now: number): boolean {
  const interval = message.properties?.messageExpiryInterval;
  return interval !== undefined && now - message.receivedAt >= interval * 1000;
}
