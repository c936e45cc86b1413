import type { BackendName } from '@tfjs-diffusion/core';

import {
  AUTO_ORDER,
  selectBackendOn,
  unavailable,
  type BackendRuntime,
  type BackendSelection,
  type SelectBackendOptions,
  type WebGpuAccess,
} from './backend-selection.js';
import { importAtRuntime, isNode } from './runtime.js';
import { TRAINING_KERNEL_NAMES, registerTrainingKernels } from './training-kernel-registry.js';
import { isSoftwareRenderer, readAdapterInfo, summariseAdapter, type WebGpuEntry } from './webgpu-adapter.js';

/** The WebGL context parameters read here (a subset of WebGLRenderingContext). */
interface WebglContext {
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null;
  getParameter(parameter: number): unknown;
  readonly RENDERER: number;
}

/** A canvas that can give a WebGL context: a DOM canvas, or an OffscreenCanvas in a worker. */
function createCanvas(): { getContext(kind: string): unknown } | undefined {
  const scope = globalThis as {
    document?: { createElement(tag: 'canvas'): { getContext(kind: string): unknown } };
    OffscreenCanvas?: new (width: number, height: number) => { getContext(kind: string): unknown };
  };
  if (scope.document !== undefined) return scope.document.createElement('canvas');
  if (scope.OffscreenCanvas !== undefined) return new scope.OffscreenCanvas(1, 1);
  return undefined;
}

/** The browser (or web worker): navigator.gpu, WebGL, and the JavaScript/wasm training kernels. */
const browserRuntime: BackendRuntime = {
  autoOrder: AUTO_ORDER.browser,
  importPackage: importAtRuntime,
  async webgpu(): Promise<WebGpuAccess> {
    const gpu = (globalThis as { navigator?: { gpu?: WebGpuEntry } }).navigator?.gpu;
    if (gpu === undefined) {
      throw unavailable(
        isNode()
          ? "navigator.gpu is missing; in Node, import selectBackend from '@tfjs-diffusion/backends/node' (Dawn)"
          : 'this browser has no WebGPU (navigator.gpu is missing)',
      );
    }
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (adapter === null) throw unavailable('navigator.gpu.requestAdapter() found no adapter');
    return { gpu, adapter: summariseAdapter(adapter, await readAdapterInfo(adapter)), description: 'on navigator.gpu' };
  },
  async webgl(auto) {
    if (isNode()) throw unavailable("webgl needs a browser's WebGL context; in Node use 'tensorflow', 'wasm', 'webgpu' or 'cpu'");
    const canvas = createCanvas();
    const context = (canvas?.getContext('webgl2') ?? canvas?.getContext('webgl') ?? null) as WebglContext | null;
    if (context === null) throw unavailable('no WebGL context');
    const debug = context.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(context.getParameter(debug === null ? context.RENDERER : debug.UNMASKED_RENDERER_WEBGL));
    if (auto && isSoftwareRenderer(renderer)) {
      throw unavailable(
        `the WebGL renderer is ${renderer}, a software renderer, far slower than wasm: auto never picks one; ask for 'webgl' by name to use it anyway`,
      );
    }
    return `tfjs-backend-webgl, renderer ${renderer}`;
  },
  async tensorflow() {
    throw unavailable(
      isNode()
        ? "the 'tensorflow' backend (tfjs-node) is in the Node entry: import selectBackend from '@tfjs-diffusion/backends/node'"
        : "the 'tensorflow' backend (tfjs-node) runs only in Node",
    );
  },
  async registerKernels(name) {
    registerTrainingKernels(name);
    return `training kernels registered: ${TRAINING_KERNEL_NAMES[name].join(', ')}`;
  },
  async defaultWasmPaths() {
    return undefined;
  },
};

/**
 * Makes a tfjs backend active in a browser (or web worker; browser-safe, no Node imports): 'auto'
 * tries webgpu, webgl, wasm, cpu, never taking a software WebGPU adapter (SwiftShader,
 * isFallbackAdapter) or WebGL renderer; cpu and wasm get this package's training kernels. Pass
 * `loaders` so that your bundler sees the backend packages. In Node, use the same function from
 * `@tfjs-diffusion/backends/node` (tfjs-node, Dawn, native kernels).
 *
 * @example
 * const choice = await selectBackend('auto', {
 *   loaders: {
 *     webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
 *     wasm: () => import('@tensorflow/tfjs-backend-wasm'),
 *   },
 * });
 * console.log(`${choice.active}: ${choice.reason}`);
 */
export function selectBackend(name: BackendName, options: SelectBackendOptions = {}): Promise<BackendSelection> {
  return selectBackendOn(browserRuntime, name, options);
}
