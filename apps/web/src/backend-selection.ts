import * as tf from '@tensorflow/tfjs-core';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The backends a browser can run, fastest first: the automatic fallback order. */
export const BROWSER_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];
export type BackendRequest = 'auto' | BrowserBackend;

/** What was chosen and why. */
export interface BackendSelection {
  readonly requested: BackendRequest;
  readonly active: BrowserBackend;
  /** One line: the choice, and why each one tried before it failed (e.g. "webgpu unavailable: navigator.gpu missing"). */
  readonly reason: string;
}

/** The WebGPU entry point, typed here so that the app needs no @webgpu/types. */
interface NavigatorWithGpu {
  readonly gpu?: { requestAdapter(): Promise<unknown> };
}

/** Why `backend` cannot run here, or null once it is the active tfjs backend. */
type Attempt = () => Promise<string | null>;

async function activate(name: BrowserBackend): Promise<string | null> {
  if (!tf.findBackendFactory(name)) return `the tfjs ${name} backend did not register`;
  const ready = await tf.setBackend(name);
  return ready ? null : `tfjs could not initialise the ${name} backend`;
}

const ATTEMPTS: Readonly<Record<BrowserBackend, Attempt>> = {
  async webgpu() {
    const gpu = (navigator as NavigatorWithGpu).gpu;
    if (!gpu) return 'navigator.gpu missing';
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) return 'navigator.gpu.requestAdapter() found no adapter';
    // the backend registers itself at import time, only where navigator.gpu exists
    await import('@tensorflow/tfjs-backend-webgpu');
    return activate('webgpu');
  },
  async webgl() {
    const canvas = document.createElement('canvas');
    if (!canvas.getContext('webgl2') && !canvas.getContext('webgl')) return 'no WebGL context';
    await import('@tensorflow/tfjs-backend-webgl');
    return activate('webgl');
  },
  async wasm() {
    if (typeof WebAssembly !== 'object') return 'WebAssembly missing';
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // the binaries are bundled assets: nothing is fetched from a CDN
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
    });
    return activate('wasm');
  },
  async cpu() {
    await import('@tensorflow/tfjs-backend-cpu');
    return activate('cpu');
  },
};

/** Reads `?backend=NAME` from the page URL ('auto' when absent or unknown). */
export function backendRequestFromUrl(search: string): BackendRequest {
  const value = new URLSearchParams(search).get('backend');
  return value !== null && (BROWSER_BACKENDS as readonly string[]).includes(value) ? (value as BrowserBackend) : 'auto';
}

/**
 * Picks a tfjs backend in the browser: the requested one, else the first that works of
 * webgpu -> webgl -> wasm -> cpu (after a requested one that fails, the rest of that chain).
 * A browser-only chain: @tfjs-diffusion/backends' selectBackend serves Node (tfjs-node, Dawn).
 */
export async function selectBrowserBackend(requested: BackendRequest): Promise<BackendSelection> {
  const order: readonly BrowserBackend[] =
    requested === 'auto' ? BROWSER_BACKENDS : [requested, ...BROWSER_BACKENDS.slice(BROWSER_BACKENDS.indexOf(requested) + 1)];
  const failures: string[] = [];
  for (const name of order) {
    let failure: string | null;
    try {
      failure = await ATTEMPTS[name]();
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (failure === null) {
      const how = requested === name ? 'requested' : requested === 'auto' && failures.length === 0 ? 'the fastest available' : 'fallback';
      return { requested, active: name, reason: [...failures, `${name}: ${how}`].join('; ') };
    }
    failures.push(`${name} unavailable: ${failure}`);
  }
  throw new Error(`no tfjs backend works in this browser: ${failures.join('; ')}`);
}
