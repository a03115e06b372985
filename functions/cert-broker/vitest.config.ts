import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/cert-broker',
    include: ['tests/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
