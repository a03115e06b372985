import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/jitr-handler',
    include: ['tests/**/*.test.ts'],
    setupFiles: [
      '../../test/support/quiet-output.ts',
      '../../packages/test-support/src/aws-call-recorder.ts',
    ],
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
