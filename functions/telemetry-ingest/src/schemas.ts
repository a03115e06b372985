import * as z from 'zod/mini';

/** `<VIN>_<ecuId>` (docs/architecture.md §2). */
export const THING_NAME = /^([A-HJ-NPR-Z0-9]{17})_([A-Za-z0-9-]{1,40})$/;

/** Splits a thing name into VIN and ecuId, or undefined if it is not one. */
export function splitThingName(thingName: string): { vin: string; ecuId: string } | undefined {
  const m = THING_NAME.exec(thingName);
  return m?.[1] && m[2] ? { vin: m[1], ecuId: m[2] } : undefined;
}

/** Last topic level (`topic(3)`) to the encryption-context kind. */
export const TOPIC_KINDS = { telemetry: 'telemetry', 'command-results': 'command-result' } as const;

// zod/mini: the same schemas in zod's functional API, which bundles about a quarter of classic zod's
// code (docs/performance.md). Bounds are inclusive (minimum/maximum) unless written lt.
const bounded = (min: number, max: number) => z.number().check(z.minimum(min), z.maximum(max));

/** Vehicle status part of a telemetry reading. */
export const vehicleStatusSchema = z.strictObject({
  speedKmh: bounded(0, 500),
  odometerKm: bounded(0, 10_000_000),
  fuelPercent: z.optional(bounded(0, 100)),
  batteryPercent: z.optional(bounded(0, 100)),
  batteryVoltage: z.optional(bounded(0, 1000)),
  doorsLocked: z.boolean(),
  windowsClosed: z.optional(z.boolean()),
  ignition: z.enum(['OFF', 'ACC', 'ON', 'START']),
  engineRunning: z.optional(z.boolean()),
  cabinTemperatureC: z.optional(bounded(-60, 90)),
});

/** Location part of a telemetry reading (WGS 84). */
export const locationSchema = z.strictObject({
  lat: bounded(-90, 90),
  lon: bounded(-180, 180),
  headingDeg: z.optional(z.number().check(z.minimum(0), z.lt(360))),
  accuracyM: z.optional(bounded(0, 100_000)),
  altitudeM: z.optional(bounded(-1000, 10_000)),
});

/** The decrypted body of a `telemetry` message: status, location, or both. */
export const telemetryBodySchema = z
  .strictObject({ status: z.optional(vehicleStatusSchema), location: z.optional(locationSchema) })
  .check(
    z.refine((b) => b.status !== undefined || b.location !== undefined, {
      message: 'status or location required',
    }),
  );
export type TelemetryBody = z.infer<typeof telemetryBodySchema>;

/** The decrypted body of a `command-result` message. */
export const commandResultBodySchema = z.strictObject({
  commandId: z.uuidv4(),
  status: z.enum(['SUCCEEDED', 'FAILED']),
  detail: z.optional(z.string().check(z.maxLength(1024))),
});
export type CommandResultBody = z.infer<typeof commandResultBodySchema>;
