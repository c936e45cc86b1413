// Bundles tfjs-core's gradient registrations into dist/register-gradients.js (see src/register-gradients.ts).
import { build } from 'esbuild';

await build({
  stdin: {
    contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
    resolveDir: import.meta.dirname ?? new URL('.', import.meta.url).pathname,
    loader: 'js',
  },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  outfile: 'dist/register-gradients.js',
  logLevel: 'warning',
  legalComments: 'none',
});
