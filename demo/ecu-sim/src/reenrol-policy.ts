/**
 * When an ECU re-enrols on its own (docs/protocol.md, "Refused certificate: re-enrol"): its operational
 * certificate is refused by the gateway (the TLS connection is closed before any CONNACK) after it had been
 * accepted, or a fresh certificate is never activated. A CONNACK "not authorized" is a policy decision (for example
 * quarantine), not a certificate problem: the ECU keeps its certificate and backs off.
 */

/** How one connection attempt ended. */
export type ConnectOutcome = 'connected' | 'refused' | 'not-authorized';

export interface ReenrolPolicy {
  /** Consecutive refusals of a certificate that was accepted before, after which the ECU re-enrols. */
  readonly refusalsBeforeReenrol: number;
  /** Attempts a fresh certificate gets to be activated (just-in-time registration) before it counts as refused. */
  readonly activationAttempts: number;
  /** Re-enrolments per refused certificate (a second refusal of the new certificate stops and reports). */
  readonly maxReenrolments: number;
}

/** The simulator's defaults (the production figures are in docs/protocol.md). */
export const DEFAULT_REENROL_POLICY: ReenrolPolicy = {
  refusalsBeforeReenrol: 3,
  activationAttempts: 20,
  maxReenrolments: 1,
};

export interface ConnectionState {
  /** The current certificate was accepted at least once (connected, or refused only by policy). */
  readonly certificateAccepted: boolean;
  readonly consecutiveRefusals: number;
  readonly reenrolments: number;
}

/**
 * What to do after a refused attempt: try again, re-enrol with the attestation key, or give up and report.
 * @example afterRefusal({ certificateAccepted: true, consecutiveRefusals: 3, reenrolments: 0 }) // 'reenrol'
 */
export function afterRefusal(
  state: ConnectionState,
  policy: ReenrolPolicy = DEFAULT_REENROL_POLICY,
): 'retry' | 'reenrol' | 'give-up' {
  const limit = state.certificateAccepted ? policy.refusalsBeforeReenrol : policy.activationAttempts;
  if (state.consecutiveRefusals < limit) return 'retry';
  return state.reenrolments < policy.maxReenrolments ? 'reenrol' : 'give-up';
}
