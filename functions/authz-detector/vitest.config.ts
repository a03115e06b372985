import { defineProject } from 'vitest/config';

// Project config files do not inherit the root vitest.config.ts `test` options: set them here.
export default defineProject({
  test: {
    name: '@cv/authz-detector',
    include: ['tests/**/*.test.ts'],
    setupFiles: [
      '../../test/support/quiet-output.ts',
      '../../packages/test-support/src/aws-call-recorder.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
