import { defaultServerConditions, defineConfig } from 'vite';

// Workspace packages resolve to their TypeScript sources through the '@tfjs-diffusion/source'
// export condition, so tests never need the other packages built first.
const conditions = ['@tfjs-diffusion/source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@tfjs-diffusion/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
