import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import * as z from 'zod';
import { type Classification, classify } from './classify.js';
import { InvalidStepInputError, RemediationError, TransientStepError } from './errors.js';
import {
  type Action,
  type Plan,
  type RemediationState,
  RemediationStateSchema,
  type StepResult,
} from './plan.js';
import type { StackScope } from './scope.js';
import type { Failure } from './steps/notify.js';

/**
 * The state machine's state between tasks: `{ plan, remaining, results }` (+ `error` on the Catch path, set by
 * Step Functions with ResultPath `$.error`). Each device/notify/ticket task does its action for `remaining[0]`,
 * appends its result and pops it; a Choice routes on the new `remaining[0]`.
 */

/** classify without the provenance check: event in, initial state out (pure). */
export function initialState(event: unknown, scope: StackScope): RemediationState {
  const classification = classify(event, scope);
  return stateOf(classification.plan, classification);
}

/** The initial state of a classified plan (skipped findings go straight to closeFinding). */
export function stateOf(plan: Plan, classification: Classification): RemediationState {
  return classification.skipped
    ? {
        plan,
        remaining: [],
        next: 'closeFinding',
        results: [],
        skipped: true,
        skipReason: classification.skipReason,
      }
    : { plan, remaining: [...plan.actions], next: nextOf(plan.actions), results: [], skipped: false };
}

/** Parses a task's input state; anything else is a bug in the state machine, reported as such. */
export function parseState(step: string, input: unknown): RemediationState {
  const parsed = RemediationStateSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidStepInputError(
      step,
      parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return parsed.data;
}

/** Runs `action` on the state (which must be this step's turn), then appends its result and pops it. */
export async function advance(
  action: Action,
  input: unknown,
  run: (state: RemediationState) => Promise<StepResult>,
): Promise<RemediationState> {
  const state = parseState(action, input);
  if (state.remaining[0] !== action) {
    throw new InvalidStepInputError(action, [
      `next action is ${state.remaining[0] ?? 'none'}, not ${action}`,
    ]);
  }
  const outcome = await asStepError(action, () => run(state));
  const remaining = state.remaining.slice(1);
  return { ...state, remaining, next: nextOf(remaining), results: [...state.results, outcome] };
}

/** What the state machine's Choice routes on (always present, so no Choice rule reads a missing path). */
export function nextOf(remaining: readonly Action[]): Action | 'closeFinding' {
  return remaining[0] ?? 'closeFinding';
}

/**
 * Runs a step body; AWS errors worth retrying (throttling, 5xx, transient network) become
 * {@link TransientStepError}, which the state machine retries with backoff. Everything else propagates to its Catch.
 */
export async function asStepError<T>(step: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isRetryable(error)) throw new TransientStepError(step, error);
    throw error;
  }
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof RemediationError || !(error instanceof Error)) return false;
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  if (typeof (error as { $metadata?: unknown }).$metadata === 'object') {
    return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
  }
  return isTransientError(sdkError);
}

const CatchSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

/** The failure Step Functions caught (`$.error`), reduced to error name and message: never the stack trace. */
export function failureOf(input: unknown): Failure | undefined {
  const caught = CatchSchema.safeParse((input as { error?: unknown } | null)?.error);
  if (!caught.success) return undefined;
  let message = caught.data.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // a plain-text Cause (States.Timeout, States.TaskFailed...) is used as is
  }
  return { error: caught.data.Error.slice(0, 128), message: message.replace(/\s+/g, ' ').slice(0, 300) };
}

/** Identifiers of a finding classify could not turn into a plan, when they are plain strings. */
export function unclassifiedIds(input: unknown): {
  findingId?: string;
  productArn?: string;
  eventId?: string;
} {
  const eventId = (input as { id?: unknown } | null)?.id;
  const finding = (input as { detail?: { findings?: unknown[] } } | null)?.detail?.findings?.[0] as
    | { Id?: unknown; ProductArn?: unknown }
    | undefined;
  const pick = (v: unknown) =>
    typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, '?').slice(0, 512) : undefined;
  const findingId = pick(finding?.Id);
  const productArn = pick(finding?.ProductArn);
  return {
    ...(findingId ? { findingId } : {}),
    ...(productArn ? { productArn } : {}),
    ...(typeof eventId === 'string' && /^[\w-]{1,64}$/.test(eventId) ? { eventId } : {}),
  };
}
