import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: '@cv/remediation-steps', include: ['tests/**/*.test.ts'] } });
