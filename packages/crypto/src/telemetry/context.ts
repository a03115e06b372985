import type { EncryptionContext } from '@aws-crypto/client-node';

/** The two message kinds an ECU sends; each is bound into the encryption context. */
export const TELEMETRY_KINDS = ['telemetry', 'command-result'] as const;
export type TelemetryKind = (typeof TELEMETRY_KINDS)[number];

/** The exact encryption context of a message: `{ thing, kind }`, nothing else. */
export interface TelemetryContext {
  thing: string;
  kind: TelemetryKind;
}

/**
 * Builds the encryption context for a thing and kind.
 *
 * @example
 * const ctx = telemetryEncryptionContext('1HGCM82633A004352_gw-01', 'telemetry');
 * // { thing: '1HGCM82633A004352_gw-01', kind: 'telemetry' }
 */
export function telemetryEncryptionContext(thingName: string, kind: TelemetryKind): EncryptionContext {
  return { thing: thingName, kind };
}

/**
 * True when `actual` is exactly `{ thing, kind }` of `expected`: same values, no missing and no extra key.
 *
 * @example
 * contextMatches({ thing: 'T', kind: 'telemetry' }, { thing: 'T', kind: 'telemetry' }); // true
 */
export function contextMatches(
  actual: Readonly<Record<string, string>>,
  expected: TelemetryContext,
): boolean {
  const keys = Object.keys(actual);
  return (
    keys.length === 2 &&
    Object.hasOwn(actual, 'thing') &&
    Object.hasOwn(actual, 'kind') &&
    actual.thing === expected.thing &&
    actual.kind === expected.kind
  );
}
