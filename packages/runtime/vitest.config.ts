import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: '@cv/runtime', include: ['tests/**/*.test.ts'] } });
