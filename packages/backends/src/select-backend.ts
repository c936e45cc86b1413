import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, DiffusionError, type BackendChoice, type BackendName } from '@tfjs-diffusion/core';

import { loadNativeKernels } from './native-kernels.js';
import { TRAINING_KERNEL_NAMES, registerTrainingKernels, type TrainingKernelBackend } from './training-kernels.js';
import { describeError, importAtRuntime, isNode, isNotInstalled } from './runtime.js';
import { createNodeGpu, installNavigatorGpu, type WebGpuEntry } from './webgpu-node.js';

/** Options of `selectBackend`. */
export interface SelectBackendOptions {
  /** Register this package's training kernels (TRAINING_KERNEL_NAMES) on cpu and wasm (default true). */
  readonly trainingKernels?: boolean;
  /**
   * Where the wasm binaries are: a folder/URL prefix or a map per binary, as tfjs's setWasmPaths takes.
   * Default in Node: the installed package's dist folder; in a browser: next to the script.
   */
  readonly wasmPaths?: string | Record<string, string>;
  /**
   * In Node, on cpu and wasm: load the native OpenBLAS kernels (NATIVE_KERNEL_NAMES, built into
   * dist/native/ when gcc and libopenblas-dev are present) and register them over the training
   * kernels (default true; also off with TFJS_DIFFUSION_NATIVE=0). When they cannot load, the
   * JavaScript/wasm kernels stay and the reason says why.
   */
  readonly nativeKernels?: boolean;
  /** In Node, let 'webgpu' fall back to SwiftShader (a slow CPU emulation) when there is no GPU (default true). */
  readonly softwareWebgpu?: boolean;
}

type ConcreteBackend = Exclude<BackendName, 'auto'>;

/** Backends 'auto' tries, in order, per runtime. */
export const AUTO_ORDER: { readonly node: readonly ConcreteBackend[]; readonly browser: readonly ConcreteBackend[] } = {
  node: ['tensorflow', 'wasm', 'cpu'],
  browser: ['webgpu', 'webgl', 'wasm', 'cpu'],
};

const TFJS_NODE_INSTALL =
  'install one: npm install @tensorflow/tfjs-node (CPU) or npm install @tensorflow/tfjs-node-gpu (CUDA; ' +
  'both download libtensorflow while installing)';

function unavailable(message: string, cause?: unknown): DiffusionError {
  return new DiffusionError('backend-unavailable', message, cause === undefined ? undefined : { cause });
}

/**
 * Checks a backend name (e.g. from a `--backend` flag); throws DiffusionError('unknown-option')
 * listing the valid names.
 */
export function parseBackendName(value: string, what = 'backend'): BackendName {
  const name = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new DiffusionError('unknown-option', `${what} '${value}' is not a backend; valid names: ${BACKEND_NAMES.join(', ')}`);
}

/**
 * Makes a tfjs backend active: 'auto' tries tensorflow, wasm, cpu in Node and webgpu, webgl, wasm,
 * cpu in a browser; backend packages are imported on demand, so only the chosen one must be installed.
 */
export async function selectBackend(name: BackendName, options: SelectBackendOptions = {}): Promise<BackendChoice> {
  const requested = parseBackendName(String(name));
  if (requested !== 'auto') {
    const detail = await activate(requested, options);
    return { requested, active: tf.getBackend(), reason: `requested '${requested}': ${detail}` };
  }
  const order = isNode() ? AUTO_ORDER.node : AUTO_ORDER.browser;
  const failures: string[] = [];
  for (const candidate of order) {
    try {
      const detail = await activate(candidate, options);
      const tried = failures.length === 0 ? '' : `; tried first: ${failures.join('; ')}`;
      return { requested, active: tf.getBackend(), reason: `auto chose '${candidate}': ${detail}${tried}` };
    } catch (error) {
      failures.push(`${candidate}: ${describeError(error)}`);
    }
  }
  throw unavailable(`no backend could be started: ${failures.join('; ')}`);
}

async function activate(name: ConcreteBackend, options: SelectBackendOptions): Promise<string> {
  switch (name) {
    case 'cpu':
      return activateCpu(options);
    case 'wasm':
      return activateWasm(options);
    case 'webgpu':
      return activateWebgpu(options);
    case 'webgl':
      return activateWebgl();
    case 'tensorflow':
      return activateTensorflow();
  }
}

function isRegistered(name: string): boolean {
  return tf.findBackendFactory(name) != null;
}

function isInitialised(name: string): boolean {
  return tf.engine().registry[name] != null;
}

async function importBackendPackage(specifier: string, install: string): Promise<unknown> {
  try {
    return await importAtRuntime(specifier);
  } catch (error) {
    const why = isNotInstalled(error) ? 'it is not installed' : `it failed to load: ${describeError(error)}`;
    throw unavailable(`${specifier} is needed, but ${why}; ${install}`, error);
  }
}

async function setActive(name: string): Promise<void> {
  let started: boolean;
  try {
    started = await tf.setBackend(name);
  } catch (error) {
    throw unavailable(`tfjs could not start the '${name}' backend: ${describeError(error)}`, error);
  }
  if (!started) throw unavailable(`tfjs could not start the '${name}' backend (see the warning tfjs logged)`);
  await tf.ready();
}

async function withTrainingKernels(name: TrainingKernelBackend, options: SelectBackendOptions): Promise<string> {
  if (options.trainingKernels === false) return 'tfjs kernels only';
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
}

async function activateCpu(options: SelectBackendOptions): Promise<string> {
  if (!isRegistered('cpu')) {
    await importBackendPackage('@tensorflow/tfjs-backend-cpu', 'install it: npm install @tensorflow/tfjs-backend-cpu');
  }
  const kernels = await withTrainingKernels('cpu', options);
  await setActive('cpu');
  return `tfjs-backend-cpu (plain JavaScript, slowest); ${kernels}`;
}

interface WasmModule {
  setWasmPaths(prefixOrFileMap: string | Record<string, string>, usePlatformFetch?: boolean): void;
}

async function activateWasm(options: SelectBackendOptions): Promise<string> {
  let module: WasmModule | undefined;
  const install = 'install it: npm install @tensorflow/tfjs-backend-wasm';
  if (!isRegistered('wasm')) module = (await importBackendPackage('@tensorflow/tfjs-backend-wasm', install)) as WasmModule;
  if (!isInitialised('wasm')) {
    const paths = options.wasmPaths ?? (isNode() ? await installedWasmFolder() : undefined);
    if (paths !== undefined) {
      module ??= (await importBackendPackage('@tensorflow/tfjs-backend-wasm', install)) as WasmModule;
      module.setWasmPaths(paths);
    }
  }
  const kernels = await withTrainingKernels('wasm', options);
  await setActive('wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return `tfjs-backend-wasm (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}); ${kernels}`;
}

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

interface WebgpuBackendModule {
  WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
}

async function activateWebgpu(options: SelectBackendOptions): Promise<string> {
  let description = 'tfjs-backend-webgpu';
  if (!isInitialised('webgpu')) {
    const existing = (globalThis as { navigator?: { gpu?: WebGpuEntry } }).navigator?.gpu;
    let gpu: WebGpuEntry;
    if (isNode()) {
      if (existing !== undefined && (await existing.requestAdapter()) !== null) {
        gpu = existing;
        description += ' on the navigator.gpu already installed';
      } else {
        const nodeGpu = await createNodeGpu(options.softwareWebgpu !== false);
        installNavigatorGpu(nodeGpu.gpu);
        gpu = nodeGpu.gpu;
        description += ` on Dawn (npm webgpu), adapter ${nodeGpu.adapter}`;
        if (nodeGpu.software) description += ': SwiftShader is a CPU emulation, correct but slow';
      }
    } else {
      if (existing === undefined) throw unavailable('this browser has no WebGPU (navigator.gpu is missing)');
      if ((await existing.requestAdapter()) === null) throw unavailable('navigator.gpu.requestAdapter() found no adapter');
      gpu = existing;
    }
    if (!isRegistered('webgpu')) {
      const module = (await importBackendPackage(
        '@tensorflow/tfjs-backend-webgpu',
        'install it: npm install @tensorflow/tfjs-backend-webgpu',
      )) as WebgpuBackendModule;
      // tfjs-backend-webgpu registers itself only if navigator.gpu existed when it was first imported.
      if (!isRegistered('webgpu')) tf.registerBackend('webgpu', () => createWebgpuBackend(gpu, module), 3);
    }
  }
  await setActive('webgpu');
  return description;
}

/** The factory tfjs-backend-webgpu registers for itself, for when it was imported before navigator.gpu existed. */
async function createWebgpuBackend(gpu: WebGpuEntry, module: WebgpuBackendModule): Promise<tf.KernelBackend> {
  type Adapter = {
    features: { has(name: string): boolean };
    limits: Record<string, number>;
    info?: unknown;
    requestDevice(descriptor: object): Promise<unknown>;
  };
  const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as Adapter | null;
  if (adapter === null) throw new Error('navigator.gpu.requestAdapter() found no adapter');
  const requiredFeatures = ['timestamp-query', 'bgra8unorm-storage'].filter((feature) => adapter.features.has(feature));
  const limitNames = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ];
  const requiredLimits = Object.fromEntries(limitNames.map((limit) => [limit, adapter.limits[limit]]));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  return new module.WebGPUBackend(device, adapter.info);
}

async function activateWebgl(): Promise<string> {
  if (isNode()) {
    throw unavailable("webgl needs a browser's WebGL context; in Node use 'tensorflow', 'wasm', 'webgpu' or 'cpu'");
  }
  if (!isRegistered('webgl')) {
    await importBackendPackage(
      '@tensorflow/tfjs-backend-webgl',
      "install it (npm install @tensorflow/tfjs-backend-webgl) and import '@tensorflow/tfjs-backend-webgl' in your app before selectBackend",
    );
  }
  await setActive('webgl');
  return 'tfjs-backend-webgl';
}

async function activateTensorflow(): Promise<string> {
  if (!isNode()) throw unavailable("the 'tensorflow' backend (tfjs-node) runs only in Node");
  if (!isRegistered('tensorflow')) {
    const failures: string[] = [];
    for (const specifier of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await importAtRuntime(specifier);
        break;
      } catch (error) {
        failures.push(`${specifier} ${isNotInstalled(error) ? 'is not installed' : `failed to load: ${describeError(error)}`}`);
      }
    }
    if (!isRegistered('tensorflow')) {
      throw unavailable(`the 'tensorflow' backend needs tfjs-node: ${failures.join(', ')}; ${TFJS_NODE_INSTALL}`);
    }
  }
  await setActive('tensorflow');
  return 'tfjs-node (libtensorflow)';
}
