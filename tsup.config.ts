import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', redis: 'src/redis/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    // json-rules-engine, zod and date-fns stay real dependencies: never bundled.
    external: ['json-rules-engine', 'zod', 'date-fns', '@date-fns/tz', 'fast-check', 'ioredis'],
  },
  {
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    external: ['json-rules-engine', 'zod', 'date-fns', '@date-fns/tz', 'ioredis'],
  },
]);
