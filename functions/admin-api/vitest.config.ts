import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/admin-api',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['../../test/support/quiet-output.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
