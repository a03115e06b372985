import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: '@cv/authz-detector', include: ['tests/**/*.test.ts'] } });
