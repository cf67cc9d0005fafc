import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['controller/**/*.test.ts', 'infra/**/*.test.ts', 'image/**/*.test.ts', 'test/**/*.test.ts'],
    // Real-server tests start Minecraft servers and controllers; give them room, and run files one at
    // a time on these 2-core machines so timing-sensitive idle checks are not starved.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
