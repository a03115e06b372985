/**
 * The rules that need no learning, judged on AWS IoT lifecycle events as they arrive: a cloned identity (the same
 * certificate and client id connected from two addresses that keep taking the session from each other) and a
 * reconnect loop. Pure: the presence state in, the new state and what it shows out.
 */
import type { RoleParameters } from './model.js';

/** An AWS IoT lifecycle event (`$aws/events/presence/connected|disconnected/<clientId>`), parsed. */
export interface PresenceEvent {
  thingName: string;
  kind: 'connected' | 'disconnected';
  /** Epoch ms. */
  at: number;
  sessionId: string;
  certificateId: string;
  ipAddress?: string;
  disconnectReason?: string;
}

/** What is kept per ECU between events: its recent connects and session takeovers, bounded. */
export interface PresenceState {
  /** Recent connects (epoch ms, source address, certificate), oldest first. */
  connects: Array<{ at: number; ip: string; certificateId: string }>;
  /** Recent `DUPLICATE_CLIENTID` disconnects (a new connection took the session over), epoch ms. */
  takeovers: number[];
}

export interface RuleHit {
  behaviour: 'CLONED_IDENTITY' | 'RECONNECT_LOOP';
  metric: string;
  observed: number;
  threshold: number;
  baseline: string;
  firstObservedAt: number;
  lastObservedAt: number;
  /** The certificate the cloned identity uses (the one to cut off). */
  certificateId?: string;
  sourceIps: string[];
}

/** At most this many connects and takeovers are kept per ECU (enough for any window the parameters allow). */
export const MAX_KEPT = 64;

export const emptyPresence = (): PresenceState => ({ connects: [], takeovers: [] });

/**
 * Applies lifecycle events (any order, redelivery included: an event already kept is not counted twice) to the
 * state and judges both rules on the result.
 */
export function applyPresence(
  state: PresenceState,
  events: readonly PresenceEvent[],
  params: RoleParameters,
): { state: PresenceState; hits: RuleHit[] } {
  const keepMs = Math.max(params.cloneWindowSeconds, params.reconnectWindowSeconds) * 1000;
  const connects = [...state.connects];
  const takeovers = [...state.takeovers];
  for (const e of events) {
    if (e.kind === 'connected') {
      const ip = e.ipAddress ?? 'unknown';
      if (!connects.some((c) => c.at === e.at && c.ip === ip)) {
        connects.push({ at: e.at, ip, certificateId: e.certificateId });
      }
    } else if (e.disconnectReason === 'DUPLICATE_CLIENTID' && !takeovers.includes(e.at)) {
      takeovers.push(e.at);
    }
  }
  connects.sort((a, b) => a.at - b.at);
  takeovers.sort((a, b) => a - b);
  const latest = Math.max(0, ...connects.map((c) => c.at), ...takeovers);
  const next: PresenceState = {
    connects: connects.filter((c) => c.at > latest - keepMs).slice(-MAX_KEPT),
    takeovers: takeovers.filter((t) => t > latest - keepMs).slice(-MAX_KEPT),
  };
  const hits: RuleHit[] = [];
  const clone = clonedIdentity(next, latest, params);
  if (clone !== undefined) hits.push(clone);
  const loop = reconnectLoop(next, latest, params);
  if (loop !== undefined) hits.push(loop);
  return { state: next, hits };
}

/**
 * Cloned identity: within the window, at least `cloneTakeovers` session takeovers and at least two source addresses
 * that each connected at least twice (the two holders of one certificate take the session from each other). A
 * cellular handover is one takeover to one new address; a device reconnecting in a loop uses one address.
 */
function clonedIdentity(state: PresenceState, latest: number, params: RoleParameters): RuleHit | undefined {
  const from = latest - params.cloneWindowSeconds * 1000;
  const takeovers = state.takeovers.filter((t) => t > from);
  const connects = state.connects.filter((c) => c.at > from && c.ip !== 'unknown');
  if (takeovers.length < params.cloneTakeovers) return undefined;
  const perIp = new Map<string, number>();
  for (const c of connects) perIp.set(c.ip, (perIp.get(c.ip) ?? 0) + 1);
  const repeated = [...perIp].filter(([, n]) => n >= 2).map(([ip]) => ip);
  if (repeated.length < 2) return undefined;
  const certificateId = connects.at(-1)?.certificateId;
  return {
    behaviour: 'CLONED_IDENTITY',
    metric: 'sessionTakeovers',
    observed: takeovers.length,
    threshold: params.cloneTakeovers,
    baseline: `at most 1 takeover (handover) per ${params.cloneWindowSeconds} s`,
    firstObservedAt: Math.min(takeovers[0] ?? latest, connects[0]?.at ?? latest),
    lastObservedAt: latest,
    ...(certificateId === undefined ? {} : { certificateId }),
    sourceIps: repeated.sort().slice(0, 5),
  };
}

/** Reconnect loop: at least `reconnectLimit` connection attempts within the window. */
function reconnectLoop(state: PresenceState, latest: number, params: RoleParameters): RuleHit | undefined {
  const from = latest - params.reconnectWindowSeconds * 1000;
  const recent = state.connects.filter((c) => c.at > from);
  if (recent.length < params.reconnectLimit) return undefined;
  return {
    behaviour: 'RECONNECT_LOOP',
    metric: 'connects',
    observed: recent.length,
    threshold: params.reconnectLimit,
    baseline: `fewer than ${params.reconnectLimit} per ${params.reconnectWindowSeconds} s`,
    firstObservedAt: recent[0]?.at ?? latest,
    lastObservedAt: latest,
    sourceIps: [...new Set(recent.map((c) => c.ip))].sort().slice(0, 5),
  };
}
