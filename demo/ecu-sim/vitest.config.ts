import { defineProject } from 'vitest/config';

export default defineProject({ test: { name: '@cv/ecu-sim', include: ['tests/**/*.test.ts'] } });
