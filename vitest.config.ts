import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^spendcap\/testing$/,
        replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      },
      {
        find: /^spendcap\/redis$/,
        replacement: fileURLToPath(new URL('./src/redis/index.ts', import.meta.url)),
      },
      { find: /^spendcap$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-build.ts'],
    // A non-UTC zone with DST, so that any accidental read of local time fails a test.
    env: { TZ: 'America/Santiago' },
    testTimeout: 60_000,
  },
});
