import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/local-cloud',
    include: ['tests/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
