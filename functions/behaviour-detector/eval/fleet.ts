/**
 * Synthetic fleet generator (fixed seed): per-role ECU behaviour with diurnal driving, ignition cycles (connects and
 * disconnects), cellular reconnects and handovers, commands with the burst of messages that follows them, a fleet
 * campaign hour, rare healthy authorization failures; and injected anomalies on chosen ECUs: message flood,
 * exfiltration-sized messages, reconnect loop, cloned certificate from a second address, command probing.
 * Produces, per hour bucket, the lifecycle events and the counters the writers would have added.
 */
import type { Metric, Role } from '../src/model.js';
import type { CounterIncrement } from '../src/ports.js';
import type { PresenceEvent } from '../src/rules.js';

export const ANOMALIES = [
  'flood',
  'exfiltration',
  'reconnectLoop',
  'clonedCertificate',
  'commandProbing',
] as const;
export type AnomalyKind = (typeof ANOMALIES)[number];

export interface Injected {
  thingName: string;
  kind: AnomalyKind;
  /** Epoch ms. */
  onset: number;
  end: number;
}

export interface FleetOptions {
  seed: number;
  ecus: number;
  days: number;
  /** Epoch ms of day 0, 00:00 UTC. */
  start: number;
  /** ECUs per anomaly kind (injected on distinct ECUs, after `learnDays`). */
  perAnomaly: number;
  learnDays: number;
  /** Share of ECUs that join the fleet late (judged against their role while they warm up). */
  lateJoiners: number;
}

export interface Ecu {
  thingName: string;
  role: Role;
  certificateId: string;
  /** Epoch ms it joins the fleet. */
  joins: number;
}

export interface Hour {
  start: number;
  presence: PresenceEvent[];
  counters: CounterIncrement[];
}

/** mulberry32: a small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Profile {
  alwaysOn: boolean;
  parkedPerHour: number;
  drivingPerHour: number;
  size: number;
  sizeSpread: number;
}
const PROFILES: Record<Role, Profile> = {
  gateway: { alwaysOn: true, parkedPerHour: 6, drivingPerHour: 60, size: 300, sizeSpread: 0.4 },
  telematics: { alwaysOn: true, parkedPerHour: 12, drivingPerHour: 120, size: 260, sizeSpread: 0.3 },
  body: { alwaysOn: false, parkedPerHour: 0, drivingPerHour: 30, size: 150, sizeSpread: 0.3 },
  infotainment: { alwaysOn: false, parkedPerHour: 0, drivingPerHour: 80, size: 900, sizeSpread: 0.8 },
  adas: { alwaysOn: false, parkedPerHour: 0, drivingPerHour: 100, size: 3000, sizeSpread: 0.6 },
};
const ROLE_MIX: Role[] = ['gateway', 'telematics', 'body', 'body', 'infotainment', 'adas'];
const HOUR = 3_600_000;

export class SyntheticFleet {
  readonly ecus: Ecu[];
  readonly injected: Injected[] = [];
  private readonly random: () => number;

  constructor(readonly options: FleetOptions) {
    this.random = rng(options.seed);
    this.ecus = Array.from({ length: options.ecus }, (_, i) => {
      const late = this.random() < options.lateJoiners;
      return {
        thingName: `1HGCM82633A${String(100000 + Math.floor(i / 6)).padStart(6, '0')}_ecu-${i}`,
        role: ROLE_MIX[i % ROLE_MIX.length] ?? 'body',
        certificateId: (i.toString(16).padStart(8, '0') + 'c'.repeat(56)).slice(0, 64),
        joins: options.start + (late ? Math.floor((4 + this.random() * 6) * 24) * HOUR : 0),
      };
    });
    const pool = this.ecus.filter((e) => e.joins === options.start);
    let next = 0;
    for (const kind of ANOMALIES) {
      for (let k = 0; k < options.perAnomaly; k++) {
        const ecu = pool[(next++ * 7919) % pool.length];
        if (ecu === undefined) continue;
        const onsetHour =
          options.learnDays * 24 + Math.floor(this.random() * (options.days - options.learnDays - 1) * 24);
        const onset = options.start + onsetHour * HOUR + Math.floor(this.random() * HOUR);
        const hours = kind === 'commandProbing' ? 6 : kind === 'clonedCertificate' ? 2 : 3;
        this.injected.push({ thingName: ecu.thingName, kind, onset, end: onset + hours * HOUR });
      }
    }
  }

  /** Every hour of the run, in order: the lifecycle events and counters of every ECU (deterministic). */
  *hours(): Generator<Hour> {
    const { start, days } = this.options;
    const plans = new Map(this.ecus.map((e) => [e.thingName, this.dayPlans()]));
    const ips = new Map(this.ecus.map((e) => [e.thingName, this.ip()]));
    for (let h = 0; h < days * 24; h++) {
      const hourStart = start + h * HOUR;
      const hour: Hour = { start: hourStart / 1000, presence: [], counters: [] };
      for (const ecu of this.ecus) {
        if (ecu.joins > hourStart) continue;
        this.ecuHour(ecu, hourStart, plans.get(ecu.thingName)?.[Math.floor(h / 24)] ?? [], ips, hour);
      }
      hour.presence.sort((a, b) => a.at - b.at);
      yield hour;
    }
  }

  /** Trips per day: [start ms, end ms]; commuters drive at rush hours on weekdays, others through the day. */
  private dayPlans(): Array<Array<[number, number]>> {
    const commuter = this.random() < 0.6;
    const tz = Math.floor(this.random() * 5) - 2;
    return Array.from({ length: this.options.days }, (_, d) => {
      const weekend = d % 7 >= 5;
      const n = poisson(this.random, weekend ? 1.5 : commuter ? 2.6 : 2);
      const trips: Array<[number, number]> = [];
      for (let t = 0; t < n; t++) {
        const centre = commuter && !weekend ? ([7.5, 12.5, 17.5, 20][t % 4] ?? 12) : 8 + this.random() * 13;
        const at = this.options.start + d * 24 * HOUR + (centre + tz + (this.random() - 0.5) * 2) * HOUR;
        const minutes = Math.min(180, Math.exp(Math.log(25) + 0.7 * gauss(this.random)));
        trips.push([Math.floor(at), Math.floor(at + minutes * 60_000)]);
      }
      return trips.sort((a, b) => a[0] - b[0]);
    });
  }

  private ip(): string {
    const r = this.random;
    return `100.${64 + Math.floor(r() * 64)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
  }

  private ecuHour(
    ecu: Ecu,
    hourStart: number,
    trips: ReadonlyArray<[number, number]>,
    ips: Map<string, string>,
    out: Hour,
  ): void {
    const r = this.random;
    const p = PROFILES[ecu.role];
    const hourEnd = hourStart + HOUR;
    const add: Partial<Record<Metric, number>> = {};
    const inc = (m: Metric, v: number) => {
      add[m] = m === 'maxBytes' ? Math.max(add[m] ?? 0, v) : (add[m] ?? 0) + v;
    };
    const event = (kind: 'connected' | 'disconnected', at: number, reason?: string, ip?: string) => {
      out.presence.push({
        thingName: ecu.thingName,
        kind,
        at: Math.floor(at),
        sessionId: `${ecu.thingName}-${Math.floor(at)}`,
        certificateId: ecu.certificateId,
        ...(kind === 'connected' ? { ipAddress: ip ?? ips.get(ecu.thingName) ?? '0.0.0.0' } : {}),
        ...(reason === undefined ? {} : { disconnectReason: reason }),
      });
    };
    const reconnect = (at: number) => {
      ips.set(ecu.thingName, this.ip());
      const handover = r() < 0.4;
      if (!handover) event('disconnected', at, r() < 0.5 ? 'CONNECTION_LOST' : 'MQTT_KEEP_ALIVE_TIMEOUT');
      event('connected', at + 5_000 + r() * 60_000);
      if (handover) event('disconnected', at + 6_000, 'DUPLICATE_CLIENTID');
    };
    // Driving minutes in this hour; ignition connects and disconnects.
    let driving = 0;
    for (const [a, b] of trips) {
      const overlap = Math.max(0, Math.min(b, hourEnd) - Math.max(a, hourStart));
      driving += overlap / 60_000;
      if (!p.alwaysOn && a >= hourStart && a < hourEnd) {
        ips.set(ecu.thingName, this.ip());
        event('connected', a + r() * 5000);
      }
      if (!p.alwaysOn && b >= hourStart && b < hourEnd)
        event('disconnected', b, 'CLIENT_INITIATED_DISCONNECT');
    }
    const f = Math.min(1, driving / 60);
    // Cellular reconnects: more likely while driving; now and then a tunnel makes a few in a row.
    const online = p.alwaysOn || f > 0;
    if (online && r() < 0.01 + 0.08 * f) {
      const bursts = r() < 0.1 ? 2 + Math.floor(r() * 4) : 1;
      for (let k = 0; k < bursts; k++) reconnect(hourStart + r() * HOUR);
    }
    let rate = p.parkedPerHour * (1 - f) + p.drivingPerHour * f;
    // Fleet campaign hour (a software-update check-in): one day, one hour, a fifth of the fleet doubles its rate.
    if (hourStart === this.options.start + (6 * 24 + 10) * HOUR && r() < 0.2) rate *= 2;
    // Commands to the gateway (about one a day, daytime), each followed by a burst of results and state.
    if (ecu.role === 'gateway') {
      const hourOfDay = Math.floor((hourStart % (24 * HOUR)) / HOUR);
      if (hourOfDay >= 7 && hourOfDay <= 22 && r() < 1 / 16) {
        const commands = 1 + (r() < 0.2 ? Math.floor(r() * 4) : 0);
        inc('received', commands);
        rate += commands * 8;
      }
    }
    let sent = poisson(r, rate);
    let maxSize = 0;
    let bytes = 0;
    const size = () => Math.max(40, Math.round(p.size * Math.exp(p.sizeSpread * gauss(r))));
    for (let k = 0; k < Math.min(sent, 40); k++) maxSize = Math.max(maxSize, size());
    bytes = Math.round(sent * p.size * Math.exp((p.sizeSpread * p.sizeSpread) / 2));
    // Healthy authorization failures: rare (a firmware race, a stale subscription after an update).
    if (online && r() < 0.0005) inc('authzFailures', 1 + (r() < 0.3 ? 1 : 0));

    for (const a of this.injected) {
      if (a.thingName !== ecu.thingName || a.end <= hourStart || a.onset >= hourEnd) continue;
      const from = Math.max(a.onset, hourStart);
      const to = Math.min(a.end, hourEnd);
      const share = (to - from) / HOUR;
      if (a.kind === 'flood') {
        const extra = Math.round(share * (800 + r() * 1600));
        sent += extra;
        bytes += extra * p.size;
      } else if (a.kind === 'exfiltration') {
        const n = Math.max(1, Math.round(share * (2 + r() * 8)));
        for (let k = 0; k < n; k++) {
          const s = 40_000 + Math.floor(r() * 80_000);
          maxSize = Math.max(maxSize, s);
          bytes += s;
          sent += 1;
        }
      } else if (a.kind === 'reconnectLoop') {
        for (let t = from; t < to; t += 15_000 + r() * 45_000) {
          event('disconnected', t, 'MQTT_KEEP_ALIVE_TIMEOUT');
          event('connected', t + 2_000);
        }
      } else if (a.kind === 'clonedCertificate') {
        const other = `198.51.100.${1 + (ecu.thingName.length % 200)}`;
        let mine = true;
        for (let t = from; t < to; t += 60_000 + r() * 240_000) {
          event('connected', t, undefined, mine ? other : ips.get(ecu.thingName));
          event('disconnected', t + 500, 'DUPLICATE_CLIENTID');
          mine = !mine;
        }
      } else if (a.kind === 'commandProbing') {
        inc('authzFailures', Math.max(1, Math.round(share * (3 + r() * 5))));
      }
    }
    if (sent > 0) {
      inc('sent', sent);
      inc('bytes', bytes);
      inc('maxBytes', maxSize);
    }
    if (Object.keys(add).length > 0) {
      out.counters.push({ thingName: ecu.thingName, start: hourStart / 1000, add });
    }
  }
}

export function poisson(r: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss(r)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
