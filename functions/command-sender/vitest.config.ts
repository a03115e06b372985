import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/command-sender',
    include: ['tests/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
