import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of every workspace package (the `sluice-source` export
// condition), so a change is seen without a rebuild. Child processes and worker threads spawned by
// tests load sources through tsx.
const shared = {
  resolve: { conditions: ['sluice-source'] },
  ssr: { resolve: { conditions: ['sluice-source'] } },
};

export default defineConfig({
  ...shared,
  test: {
    projects: [
      'packages/api',
      'packages/expression',
      'packages/protocol',
      'packages/site-to-site',
      'packages/engine',
      'packages/testing',
      'processors',
      'apps/server',
      'apps/editor',
    ].map((root) => ({
      ...shared,
      test: {
        name: root.split('/').pop() ?? root,
        root,
        include: ['src/**/*.test.ts'],
        testTimeout: 30_000,
        hookTimeout: 30_000,
      },
    })),
  },
});
