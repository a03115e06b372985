import * as z from 'zod';

/** `<VIN>_<ecuId>` (docs/architecture.md §2). */
export const THING_NAME = /^([A-HJ-NPR-Z0-9]{17})_([A-Za-z0-9-]{1,40})$/;

/** Splits a thing name into VIN and ecuId, or undefined if it is not one. */
export function splitThingName(thingName: string): { vin: string; ecuId: string } | undefined {
  const m = THING_NAME.exec(thingName);
  return m?.[1] && m[2] ? { vin: m[1], ecuId: m[2] } : undefined;
}

/** Last topic level (`topic(3)`) to the encryption-context kind. */
export const TOPIC_KINDS = { telemetry: 'telemetry', 'command-results': 'command-result' } as const;

const finite = z.number();

/** Vehicle status part of a telemetry reading. */
export const vehicleStatusSchema = z.strictObject({
  speedKmh: finite.min(0).max(500),
  odometerKm: finite.min(0).max(10_000_000),
  fuelPercent: finite.min(0).max(100).optional(),
  batteryPercent: finite.min(0).max(100).optional(),
  batteryVoltage: finite.min(0).max(1000).optional(),
  doorsLocked: z.boolean(),
  windowsClosed: z.boolean().optional(),
  ignition: z.enum(['OFF', 'ACC', 'ON', 'START']),
  engineRunning: z.boolean().optional(),
  cabinTemperatureC: finite.min(-60).max(90).optional(),
});

/** Location part of a telemetry reading (WGS 84). */
export const locationSchema = z.strictObject({
  lat: finite.min(-90).max(90),
  lon: finite.min(-180).max(180),
  headingDeg: finite.min(0).lt(360).optional(),
  accuracyM: finite.min(0).max(100_000).optional(),
  altitudeM: finite.min(-1000).max(10_000).optional(),
});

/** The decrypted body of a `telemetry` message: status, location, or both. */
export const telemetryBodySchema = z
  .strictObject({ status: vehicleStatusSchema.optional(), location: locationSchema.optional() })
  .refine((b) => b.status !== undefined || b.location !== undefined, {
    message: 'status or location required',
  });
export type TelemetryBody = z.infer<typeof telemetryBodySchema>;

/** The decrypted body of a `command-result` message. */
export const commandResultBodySchema = z.strictObject({
  commandId: z.uuidv4(),
  status: z.enum(['SUCCEEDED', 'FAILED']),
  detail: z.string().max(1024).optional(),
});
export type CommandResultBody = z.infer<typeof commandResultBodySchema>;
