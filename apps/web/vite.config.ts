import { defaultClientConditions, defineConfig } from 'vite';
import { mnistDigitsPlugin } from './build/mnist-digits-plugin.js';

// Workspace packages resolve to their TypeScript sources through the '@tfjs-diffusion/source'
// export condition, so the demo builds from src and always matches the packages beside it.
export default defineConfig({
  base: './',
  resolve: { conditions: ['@tfjs-diffusion/source', ...defaultClientConditions] },
  plugins: [mnistDigitsPlugin(60)],
  build: {
    target: 'es2022',
    // the shipped checkpoints, the wasm binaries and the digits stay separate files
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
    // gzip-sizing every chunk for the report takes longer than the build's own work
    reportCompressedSize: false,
  },
  preview: { port: Number(process.env['PORT'] ?? 4173), strictPort: true },
  server: { port: Number(process.env['PORT'] ?? 5173) },
});
