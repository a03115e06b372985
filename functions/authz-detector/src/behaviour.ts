/**
 * Authorization failures counted per ECU and hour for behaviour-detector (docs/detection.md), from the failures this
 * function already reads. Only Publish-In and Subscribe failures: they come from a connection that was let in, and
 * the IoT policies only let a certificate connect with its own thing name as client id, so the client id names the
 * ECU. A Connect failure's client id is only claimed and is not counted for any ECU.
 */
import { addTo, bucketStart, type CounterAdd } from '@cv/runtime';
import type { AuthorizationFailure } from './logs.js';

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** One counter entry per ECU and hour for the batch. Pure. */
export function failureCounts(failures: readonly AuthorizationFailure[]): CounterAdd[] {
  const batch = new Map<string, CounterAdd>();
  const seen = new Set<string>();
  for (const f of failures) {
    if (f.eventType === 'Connect' || f.clientId === undefined || !THING_NAME.test(f.clientId)) continue;
    if (seen.has(f.eventId)) continue;
    seen.add(f.eventId);
    addTo(batch, { thingName: f.clientId, start: bucketStart(f.at), authzFailures: 1 });
  }
  return [...batch.values()];
}
