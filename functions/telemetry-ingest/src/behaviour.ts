/**
 * Behaviour counters (docs/detection.md): what this function already processes, counted per ECU and hour for
 * behaviour-detector, aggregated so one invocation writes once per ECU and hour however many messages it handled.
 * Redeliveries (duplicates) are not counted again. Counting never fails ingestion: a counter write that fails is
 * reported and dropped (counts are evidence for baselines, not records).
 */
import { addTo, bucketStart, type CounterAdd } from '@cv/runtime';
import type { IngestOutcome } from './ingest.js';

export interface CounterSink {
  add(adds: readonly CounterAdd[]): Promise<void>;
}

/** One invocation's counts, drained after it. */
export class BehaviourTally {
  private batch = new Map<string, CounterAdd>();

  /** Counts one message the ECU sent (stored or dropped; a duplicate is a redelivery, not a new message). */
  observe(outcome: IngestOutcome, bytes: number, atMs: number): void {
    if (outcome.result === 'duplicate' || outcome.thingName === undefined) return;
    addTo(this.batch, {
      thingName: outcome.thingName,
      start: bucketStart(atMs),
      sent: 1,
      bytes,
      maxBytes: bytes,
    });
  }

  get size(): number {
    return this.batch.size;
  }

  drain(): CounterAdd[] {
    const out = [...this.batch.values()];
    this.batch = new Map();
    return out;
  }
}

/** Writes what the tally holds; a failure is handed to `onError` and the counts dropped. */
export async function flushTally(
  tally: BehaviourTally,
  sink: CounterSink | undefined,
  onError: (error: unknown, dropped: number) => void,
): Promise<void> {
  const adds = tally.drain();
  if (sink === undefined || adds.length === 0) return;
  try {
    await sink.add(adds);
  } catch (error) {
    onError(error, adds.length);
  }
}

/** The size of a message as the rule delivered it (object from the rule, text from a queue or stream). */
export function messageBytes(message: unknown): number {
  if (typeof message === 'string') return Buffer.byteLength(message, 'utf8');
  try {
    return Buffer.byteLength(JSON.stringify(message) ?? '', 'utf8');
  } catch {
    return 0;
  }
}
