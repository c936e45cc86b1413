import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, DiffusionError, type BackendChoice, type BackendName } from '@tfjs-diffusion/core';

import { describeError, isNotInstalled } from './runtime.js';
import type { TrainingKernelBackend } from './training-kernel-registry.js';
import type { WebGpuAdapterSummary, WebGpuEntry } from './webgpu-adapter.js';

/** A backend that can be active ('auto' resolved). */
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

/**
 * Imports a backend package. Written in the app, `() => import('@tensorflow/tfjs-backend-wasm')`
 * is an import a bundler can see, so the package ends up in the bundle (or in a chunk of its own).
 */
export type BackendLoader = () => Promise<unknown>;

/** One loader per backend package the app bundles; a backend without one is imported by name at run time. */
export type BackendLoaders = Readonly<Partial<Record<ConcreteBackend, BackendLoader>>>;

/** Options of `selectBackend`. */
export interface SelectBackendOptions {
  /**
   * How to import each backend package. In a bundled browser app pass them (see `BackendLoaders`):
   * without one, the package is imported by its name at run time, which works in Node and with an
   * import map but not in a bundle.
   */
  readonly loaders?: BackendLoaders;
  /** Register this package's training kernels (TRAINING_KERNEL_NAMES) on cpu and wasm (default true). */
  readonly trainingKernels?: boolean;
  /**
   * Where the wasm binaries are: a folder/URL prefix or a map per binary, as tfjs's setWasmPaths takes.
   * Default in Node: the installed package's dist folder; in a browser: next to the script.
   */
  readonly wasmPaths?: string | Record<string, string>;
  /**
   * Node entry only (`@tfjs-diffusion/backends/node`), on cpu and wasm: load the native OpenBLAS
   * kernels (NATIVE_KERNEL_NAMES, built into dist/native/ when gcc and libopenblas-dev are present)
   * and register them over the training kernels (default true; also off with TFJS_DIFFUSION_NATIVE=0).
   * When they cannot load, the JavaScript/wasm kernels stay and the reason says why.
   */
  readonly nativeKernels?: boolean;
  /**
   * Whether 'webgpu', asked for by name, may run on a software adapter (SwiftShader, a slow CPU
   * emulation; in Node, Dawn falls back to it when there is no GPU). Default true. `auto` never
   * picks a software adapter.
   */
  readonly softwareWebgpu?: boolean;
}

/** What `selectBackend` chose, and the WebGPU adapter it saw. */
export interface BackendSelection extends BackendChoice {
  /** The WebGPU adapter found while trying webgpu (absent when webgpu was not tried or had none). */
  readonly webgpuAdapter?: WebGpuAdapterSummary;
}

/** Backends 'auto' tries, in order, per runtime. */
export const AUTO_ORDER: { readonly node: readonly ConcreteBackend[]; readonly browser: readonly ConcreteBackend[] } = {
  node: ['tensorflow', 'wasm', 'cpu'],
  browser: ['webgpu', 'webgl', 'wasm', 'cpu'],
};

/** The package each backend comes from (tensorflow: see the Node entry). */
export const BACKEND_PACKAGES: Readonly<Record<Exclude<ConcreteBackend, 'tensorflow'>, string>> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
};

/** A WebGPU entry point and the adapter it gives. */
export interface WebGpuAccess {
  readonly gpu: WebGpuEntry;
  readonly adapter: WebGpuAdapterSummary;
  /** E.g. "on Dawn (npm webgpu)". */
  readonly description: string;
}

/** What differs between a browser and Node (see browser.ts and select-backend.ts). */
export interface BackendRuntime {
  readonly autoOrder: readonly ConcreteBackend[];
  /** Imports a backend package by name when no loader was given. */
  importPackage(specifier: string): Promise<unknown>;
  /** The WebGPU entry point and its adapter; throws DiffusionError('backend-unavailable'). */
  webgpu(allowSoftware: boolean): Promise<WebGpuAccess>;
  /** Checks that WebGL can run here; `auto`: also refuse a software renderer. Returns a description. */
  webgl(auto: boolean): Promise<string>;
  /** Makes the 'tensorflow' backend (tfjs-node) registered; returns a description. */
  tensorflow(loader: BackendLoader | undefined): Promise<string>;
  /** Registers the training kernels (and whatever else the runtime has); returns a description. */
  registerKernels(name: TrainingKernelBackend, options: SelectBackendOptions): Promise<string>;
  /** Where the wasm binaries are when the options do not say. */
  defaultWasmPaths(): Promise<string | undefined>;
}

/** DiffusionError('backend-unavailable') with an optional cause. */
export function unavailable(message: string, cause?: unknown): DiffusionError {
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
 * Makes a tfjs backend active on `runtime`: a named one, or for 'auto' the first of
 * `runtime.autoOrder` that starts (never a software WebGPU adapter or WebGL renderer), saying why.
 */
export async function selectBackendOn(runtime: BackendRuntime, name: BackendName, options: SelectBackendOptions): Promise<BackendSelection> {
  const requested = parseBackendName(String(name));
  const seen: { adapter?: WebGpuAdapterSummary } = {};
  const withAdapter = (choice: BackendChoice): BackendSelection => (seen.adapter === undefined ? choice : { ...choice, webgpuAdapter: seen.adapter });
  if (requested !== 'auto') {
    const detail = await activate(runtime, requested, options, false, seen);
    return withAdapter({ requested, active: tf.getBackend(), reason: `requested '${requested}': ${detail}` });
  }
  const failures: string[] = [];
  for (const candidate of runtime.autoOrder) {
    try {
      const detail = await activate(runtime, candidate, options, true, seen);
      const tried = failures.length === 0 ? '' : `; tried first: ${failures.join('; ')}`;
      return withAdapter({ requested, active: tf.getBackend(), reason: `auto chose '${candidate}': ${detail}${tried}` });
    } catch (error) {
      failures.push(`${candidate}: ${describeError(error)}`);
    }
  }
  throw unavailable(`no backend could be started: ${failures.join('; ')}`);
}

type Seen = { adapter?: WebGpuAdapterSummary };

async function activate(runtime: BackendRuntime, name: ConcreteBackend, options: SelectBackendOptions, auto: boolean, seen: Seen): Promise<string> {
  switch (name) {
    case 'cpu':
      return activateCpu(runtime, options);
    case 'wasm':
      return activateWasm(runtime, options);
    case 'webgpu':
      return activateWebgpu(runtime, options, auto, seen);
    case 'webgl':
      return activateWebgl(runtime, options, auto);
    case 'tensorflow': {
      const description = await runtime.tensorflow(options.loaders?.tensorflow);
      await setActive('tensorflow');
      return description;
    }
  }
}

function isRegistered(name: string): boolean {
  return tf.findBackendFactory(name) != null;
}

function isInitialised(name: string): boolean {
  return tf.engine().registry[name] != null;
}

/** Imports a backend's package through its loader, else by name; a failure names the package and how to install it. */
async function loadPackage(runtime: BackendRuntime, name: Exclude<ConcreteBackend, 'tensorflow'>, options: SelectBackendOptions): Promise<unknown> {
  const specifier = BACKEND_PACKAGES[name];
  const loader = options.loaders?.[name];
  try {
    return await (loader === undefined ? runtime.importPackage(specifier) : loader());
  } catch (error) {
    const why = isNotInstalled(error) ? 'it is not installed' : `it failed to load: ${describeError(error)}`;
    throw unavailable(`${specifier} is needed, but ${why}; install it: npm install ${specifier}`, error);
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

async function withTrainingKernels(runtime: BackendRuntime, name: TrainingKernelBackend, options: SelectBackendOptions): Promise<string> {
  if (options.trainingKernels === false) return 'tfjs kernels only';
  return runtime.registerKernels(name, options);
}

async function activateCpu(runtime: BackendRuntime, options: SelectBackendOptions): Promise<string> {
  if (!isRegistered('cpu')) await loadPackage(runtime, 'cpu', options);
  const kernels = await withTrainingKernels(runtime, 'cpu', options);
  await setActive('cpu');
  return `tfjs-backend-cpu (plain JavaScript, slowest); ${kernels}`;
}

interface WasmModule {
  setWasmPaths(prefixOrFileMap: string | Record<string, string>, usePlatformFetch?: boolean): void;
}

async function activateWasm(runtime: BackendRuntime, options: SelectBackendOptions): Promise<string> {
  let module: WasmModule | undefined;
  if (!isRegistered('wasm')) module = (await loadPackage(runtime, 'wasm', options)) as WasmModule;
  if (!isInitialised('wasm')) {
    const paths = options.wasmPaths ?? (await runtime.defaultWasmPaths());
    if (paths !== undefined) {
      module ??= (await loadPackage(runtime, 'wasm', options)) as WasmModule;
      module.setWasmPaths(paths);
    }
  }
  const kernels = await withTrainingKernels(runtime, 'wasm', options);
  await setActive('wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return `tfjs-backend-wasm (SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}); ${kernels}`;
}

interface WebgpuBackendModule {
  WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
}

async function activateWebgpu(runtime: BackendRuntime, options: SelectBackendOptions, auto: boolean, seen: Seen): Promise<string> {
  let description = 'tfjs-backend-webgpu';
  // auto looks at the adapter even when the backend already runs: it must not take a software one
  if (!isInitialised('webgpu') || auto) {
    const allowSoftware = !auto && options.softwareWebgpu !== false;
    const access = await runtime.webgpu(allowSoftware);
    seen.adapter = access.adapter;
    if (access.adapter.software && !allowSoftware) {
      throw unavailable(
        `the WebGPU adapter is ${access.adapter.name}, a software adapter (${access.adapter.softwareBecause}), far slower than wasm: ` +
          (auto ? "auto never picks one; ask for 'webgpu' by name to use it anyway" : 'software WebGPU is turned off (softwareWebgpu: false)'),
      );
    }
    description += ` ${access.description}, adapter ${access.adapter.name}`;
    if (access.adapter.software) description += ` (software: ${access.adapter.softwareBecause}; correct but slow)`;
    if (!isRegistered('webgpu')) {
      const module = (await loadPackage(runtime, 'webgpu', options)) as WebgpuBackendModule;
      // tfjs-backend-webgpu registers itself only if navigator.gpu existed when it was first imported.
      if (!isRegistered('webgpu')) tf.registerBackend('webgpu', () => createWebgpuBackend(access.gpu, module), 3);
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

async function activateWebgl(runtime: BackendRuntime, options: SelectBackendOptions, auto: boolean): Promise<string> {
  const description = await runtime.webgl(auto);
  if (!isRegistered('webgl')) await loadPackage(runtime, 'webgl', options);
  await setActive('webgl');
  return description;
}
