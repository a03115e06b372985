import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/command-authorizer',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['../../test/support/quiet-output.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
