import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/admin-api',
    include: ['tests/**/*.test.ts'],
    setupFiles: [
      '../../test/support/quiet-output.ts',
      '../../packages/test-support/src/aws-call-recorder.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
