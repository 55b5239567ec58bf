import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@memkv\/client\/protocol$/, replacement: fileURLToPath(new URL('./packages/client/src/protocol.ts', import.meta.url)) },
      { find: /^@memkv\/client$/, replacement: fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'all', include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'] } },
      // The HTTP route tests again, over TCP, where the fast path answers the hot requests.
      {
        extends: true,
        test: {
          name: 'http-over-tcp',
          include: ['test/http/routes.test.ts', 'test/http/bad-input.test.ts'],
          env: { MEMKV_TEST_TRANSPORT: 'tcp' },
        },
      },
    ],
  },
});
