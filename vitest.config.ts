import { defineConfig } from 'vitest/config';

// Each project's own vitest.config.ts sets its options (name, include, timeouts):
// project config files do not inherit this file's `test` options.
export default defineConfig({
  test: {
    projects: ['packages/*', 'functions/*', 'demo/ecu-sim', 'test'],
  },
});
