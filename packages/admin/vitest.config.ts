import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@cv/admin', include: ['tests/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
