import { BACKEND_NAMES, type BackendName } from '@tfjs-diffusion/core';
import { selectBackend, type BackendSelection } from '@tfjs-diffusion/backends';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The backends this page bundles (tensorflow is Node's). */
export const PAGE_BACKENDS = BACKEND_NAMES.filter((name) => name !== 'tensorflow');

/** Reads `?backend=NAME` from the page URL ('auto' when absent or unknown). */
export function backendRequestFromUrl(search: string): BackendName {
  const value = new URLSearchParams(search).get('backend');
  return value !== null && (PAGE_BACKENDS as readonly string[]).includes(value) ? (value as BackendName) : 'auto';
}

/**
 * Activates a backend with @tfjs-diffusion/backends: the imports below are the loaders Vite
 * bundles (each backend in a chunk of its own, fetched only when tried), and the wasm binaries
 * are bundled assets, never fetched from a CDN.
 */
export function activateBackend(requested: BackendName): Promise<BackendSelection> {
  return selectBackend(requested, {
    loaders: {
      webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
      webgl: () => import('@tensorflow/tfjs-backend-webgl'),
      wasm: () => import('@tensorflow/tfjs-backend-wasm'),
      cpu: () => import('@tensorflow/tfjs-backend-cpu'),
    },
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
    },
  });
}
