/** Use case of behaviourPresence: AWS IoT lifecycle events to counters and the real-time rules. */
import { bucketOf, type DetectDeps, MAX_CONFLICTS, raise, roleAndParams } from './detect.js';
import type { CounterIncrement } from './ports.js';
import { applyPresence, emptyPresence, type PresenceEvent } from './rules.js';

/**
 * Lifecycle events: counts connects, disconnects (by reason) and source addresses per ECU and bucket (one write per
 * ECU and bucket for the whole batch), then judges the cloned-identity and reconnect-loop rules on each ECU's
 * recent presence. Returns the finding ids raised.
 */
export async function onPresence(events: readonly PresenceEvent[], deps: DetectDeps): Promise<string[]> {
  const increments = new Map<string, CounterIncrement>();
  const byThing = new Map<string, PresenceEvent[]>();
  for (const e of events) {
    const start = bucketOf(e.at);
    const key = `${e.thingName}#${start}`;
    const inc = increments.get(key) ?? {
      thingName: e.thingName,
      start,
      add: {},
      disconnectReasons: {},
      sourceIps: [],
    };
    if (e.kind === 'connected') {
      inc.add.connects = (inc.add.connects ?? 0) + 1;
      if (e.ipAddress !== undefined && !inc.sourceIps?.includes(e.ipAddress))
        inc.sourceIps?.push(e.ipAddress);
    } else {
      inc.add.disconnects = (inc.add.disconnects ?? 0) + 1;
      const reason = e.disconnectReason ?? 'UNKNOWN';
      if (inc.disconnectReasons) inc.disconnectReasons[reason] = (inc.disconnectReasons[reason] ?? 0) + 1;
    }
    increments.set(key, inc);
    byThing.set(e.thingName, [...(byThing.get(e.thingName) ?? []), e]);
  }
  await deps.counters.add([...increments.values()]);
  const raised: string[] = [];
  for (const [thingName, own] of [...byThing].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { role, params } = await roleAndParams(thingName, deps);
    for (let attempt = 0; ; attempt++) {
      const stored = await deps.state.presence(thingName);
      const { state, hits } = applyPresence(stored?.value ?? emptyPresence(), own, params);
      if (!(await deps.state.savePresence(thingName, state, stored?.version))) {
        if (attempt + 1 >= MAX_CONFLICTS) throw new Error(`presence of ${thingName} kept changing`);
        continue;
      }
      for (const hit of hits) {
        const id = await raise({ ...hit, thingName, role: role ?? 'unknown' }, params, deps);
        if (id !== undefined) raised.push(id);
      }
      break;
    }
  }
  return raised;
}
