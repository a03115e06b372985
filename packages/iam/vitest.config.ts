import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/iam',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['../../test/support/quiet-output.ts'],
    testTimeout: 60_000,
    // The static proof reads what the functions' suites recorded (packages/test-support/src/aws-call-recorder.ts):
    // this project runs after every other one.
    sequence: { groupOrder: 1 },
  },
});
