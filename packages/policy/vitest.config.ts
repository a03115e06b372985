import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: '@cv/policy',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['../../test/support/quiet-output.ts'],
  },
});
