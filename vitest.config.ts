import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests spawn dist/server/cli.js: build it once, before every file.
    globalSetup: ['test/global-setup.ts'],
    // Tests open real sockets and child processes; the machines have 2 cores.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
