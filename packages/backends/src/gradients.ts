import { getGradient } from '@tensorflow/tfjs-core';

import { importAtRuntime, isNode } from './runtime.js';

/**
 * A Node module-resolve hook for tfjs-core's ESM files (dist/*.js), which import each other
 * without file extensions ('./engine', './gradients' for gradients.js): Node's ESM loader rejects
 * those, so when one fails, it retries with '.js' and then '/index.js'. Bundlers and vitest never
 * reach it.
 */
const TFJS_RESOLVE_HOOK = `
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const code = error && error.code;
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    const fromTfjs = typeof context.parentURL === 'string' && context.parentURL.includes('/@tensorflow/tfjs-core/dist/');
    if (!relative || !fromTfjs || (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'ERR_UNSUPPORTED_DIR_IMPORT')) throw error;
    try {
      return await nextResolve(specifier + '.js', context);
    } catch {
      return nextResolve(specifier + '/index.js', context);
    }
  }
}
`;

const hookKey = Symbol.for('@tfjs-diffusion/backends:tfjs-resolve-hook');

async function installTfjsResolveHook(): Promise<void> {
  const holder = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (holder[hookKey] === true) return;
  const module = (await importAtRuntime('node:module')) as { register?: (specifier: string, parentUrl?: string) => void };
  if (typeof module.register !== 'function') {
    throw new Error('registerGradients needs Node >= 20.6 (module.register) to load tfjs-core gradients in plain Node');
  }
  module.register(`data:text/javascript,${encodeURIComponent(TFJS_RESOLVE_HOOK)}`);
  holder[hookKey] = true;
}

/**
 * Registers tfjs-core's gradient functions, which tf.grad and optimizers need and which tfjs-core
 * alone never registers; idempotent. Plain Node cannot import tfjs-core's
 * 'dist/register_all_gradients.js' (extensionless imports), so there it first installs a resolve
 * hook; under bundlers and vitest the import works as it is.
 */
export async function registerGradients(): Promise<void> {
  if (getGradient('Conv2D') !== undefined) return;
  if (isNode()) await installTfjsResolveHook();
  await importAtRuntime('@tensorflow/tfjs-core/dist/register_all_gradients.js');
}
