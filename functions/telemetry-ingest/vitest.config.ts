import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/telemetry-ingest',
    include: ['tests/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
