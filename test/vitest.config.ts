import { defineProject } from 'vitest/config';

// Project config files do not inherit the root vitest.config.ts `test` options: set them here.
export default defineProject({
  test: { name: 'cross-package', include: ['**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
