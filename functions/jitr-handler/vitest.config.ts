import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/jitr-handler',
    include: ['tests/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
