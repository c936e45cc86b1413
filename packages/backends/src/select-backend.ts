import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '@tfjs-diffusion/core';

import {
  AUTO_ORDER,
  parseBackendName,
  selectBackendOn,
  unavailable,
  type BackendRuntime,
  type BackendSelection,
  type SelectBackendOptions,
  type WebGpuAccess,
} from './backend-selection.js';
import { loadNativeKernels } from './native-kernels.js';
import { describeError, importAtRuntime, isNode, isNotInstalled } from './runtime.js';
import { TRAINING_KERNEL_NAMES, registerTrainingKernels } from './training-kernels.js';
import { readAdapterInfo, summariseAdapter, type WebGpuEntry } from './webgpu-adapter.js';
import { createNodeGpu, installNavigatorGpu } from './webgpu-node.js';

// The Node side of backend selection (the `./node` entry): tfjs-node, WebGPU on Dawn, the native
// OpenBLAS kernels, and the wasm binaries from the installed package.
export { AUTO_ORDER, parseBackendName, type SelectBackendOptions };

const TFJS_NODE_INSTALL =
  'install one: npm install @tensorflow/tfjs-node (CPU) or npm install @tensorflow/tfjs-node-gpu (CUDA; ' +
  'both download libtensorflow while installing)';

/** The folder holding the installed tfjs-backend-wasm's .wasm binaries, in Node. */
async function installedWasmFolder(): Promise<string | undefined> {
  try {
    const { createRequire } = (await importAtRuntime('node:module')) as {
      createRequire(from: string): { resolve(specifier: string): string };
    };
    const path = (await importAtRuntime('node:path')) as { dirname(path: string): string; sep: string };
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    return `${path.dirname(entry)}${path.sep}`;
  } catch {
    return undefined;
  }
}

const nodeRuntime: BackendRuntime = {
  autoOrder: AUTO_ORDER.node,
  importPackage: importAtRuntime,
  async webgpu(allowSoftware): Promise<WebGpuAccess> {
    const existing = (globalThis as { navigator?: { gpu?: WebGpuEntry } }).navigator?.gpu;
    const adapter = existing === undefined ? null : await existing.requestAdapter({ powerPreference: 'high-performance' });
    if (existing !== undefined && adapter !== null) {
      return {
        gpu: existing,
        adapter: summariseAdapter(adapter, await readAdapterInfo(adapter)),
        description: 'on the navigator.gpu already installed',
      };
    }
    const nodeGpu = await createNodeGpu(allowSoftware);
    installNavigatorGpu(nodeGpu.gpu);
    return { gpu: nodeGpu.gpu, adapter: nodeGpu.summary, description: 'on Dawn (npm webgpu)' };
  },
  async webgl() {
    throw unavailable("webgl needs a browser's WebGL context; in Node use 'tensorflow', 'wasm', 'webgpu' or 'cpu'");
  },
  async tensorflow(loader) {
    if (!isNode()) throw unavailable("the 'tensorflow' backend (tfjs-node) runs only in Node");
    if (tfjsNodeRegistered()) return 'tfjs-node (libtensorflow)';
    const failures: string[] = [];
    const attempts: [string, () => Promise<unknown>][] =
      loader === undefined
        ? ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].map((specifier) => [specifier, () => importAtRuntime(specifier)])
        : [['the given loader', loader]];
    for (const [what, load] of attempts) {
      try {
        await load();
        break;
      } catch (error) {
        failures.push(`${what} ${isNotInstalled(error) ? 'is not installed' : `failed to load: ${describeError(error)}`}`);
      }
    }
    if (!tfjsNodeRegistered()) throw unavailable(`the 'tensorflow' backend needs tfjs-node: ${failures.join(', ')}; ${TFJS_NODE_INSTALL}`);
    return 'tfjs-node (libtensorflow)';
  },
  async registerKernels(name, options) {
    let nativeDescription = '';
    let native = false;
    if (options.nativeKernels !== false && isNode()) {
      const status = await loadNativeKernels();
      native = status.available;
      nativeDescription = status.available
        ? `; native OpenBLAS kernels: ${status.kernels.join(', ')} (${status.description})`
        : `; native kernels unavailable: ${status.reason}`;
    }
    registerTrainingKernels(name, { native });
    return `training kernels registered: ${TRAINING_KERNEL_NAMES[name].join(', ')}${nativeDescription}`;
  },
  defaultWasmPaths: () => (isNode() ? installedWasmFolder() : Promise.resolve(undefined)),
};

function tfjsNodeRegistered(): boolean {
  return tf.findBackendFactory('tensorflow') != null;
}

/**
 * Makes a tfjs backend active in Node: 'auto' tries tensorflow (tfjs-node), wasm, cpu; 'webgpu'
 * runs on Dawn (npm `webgpu`, SwiftShader when there is no GPU); cpu and wasm get the training
 * kernels and, when built, the native OpenBLAS kernels. Backend packages are imported on demand,
 * so only the chosen one must be installed.
 */
export function selectBackend(name: BackendName, options: SelectBackendOptions = {}): Promise<BackendSelection> {
  return selectBackendOn(nodeRuntime, name, options);
}
