import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The committed sample events (events/remediation-steps/*.json), by file name without extension. */
export const EVENTS_DIR = fileURLToPath(new URL('../../../events/remediation-steps/', import.meta.url));

export function loadEvent(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${EVENTS_DIR}${name}.json`, 'utf8')) as Record<string, unknown>;
}

export function eventNames(): string[] {
  return readdirSync(EVENTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export const THING = 'WVWZZZ1JZXW000001_TCU-00042';
export const CERT = '3f9c2b7e8a1d4c6f0b5e9a2d7c4f1e8b6a3d0c9f2e5b8a1d4c7f0e3b6a9d2c5f';
export const POLICY = 'cv-security-dev-ecu-telematics';

/** The stack the corpus findings belong to (the steps read it from AWS_REGION and their function ARN). */
export const SCOPE = { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' } as const;
