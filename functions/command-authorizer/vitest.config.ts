import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/command-authorizer',
    include: ['tests/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
