import { DiffusionError } from '@tfjs-diffusion/core';

import { describeError, importAtRuntime, isNotInstalled } from './runtime.js';
import { summariseAdapter, type WebGpuAdapter, type WebGpuAdapterSummary, type WebGpuEntry } from './webgpu-adapter.js';

/** Where Debian/Ubuntu's `chromium` package puts SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD_PATH = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** The Vulkan loader that the same package ships next to SwiftShader. */
const CHROMIUM_VULKAN_LOADER = '/usr/lib/chromium/libvulkan.so.1';
/** dlopen flag RTLD_NODELETE (glibc), which Node's os.constants.dlopen does not list. */
const RTLD_NODELETE = 0x1000;

export type { WebGpuEntry } from './webgpu-adapter.js';

/** What the npm package `webgpu` (Dawn for Node) exports. */
interface DawnModule {
  create(options: string[]): WebGpuEntry;
  globals: Record<string, unknown>;
}

/** A WebGPU entry point ready for tfjs-backend-webgpu, and what it runs on. */
export interface NodeGpu {
  readonly gpu: WebGpuEntry;
  /** The adapter, e.g. "nvidia ampere (NVIDIA A100)" or "google swiftshader (SwiftShader driver 5.0.0)". */
  readonly adapter: string;
  /** True when the adapter is SwiftShader, a CPU emulation: correct but slow. */
  readonly software: boolean;
  /** The adapter's name and whether (and why) it is a software one. */
  readonly summary: WebGpuAdapterSummary;
}

function unavailable(message: string, cause?: unknown): DiffusionError {
  return new DiffusionError('backend-unavailable', message, cause === undefined ? undefined : { cause });
}

/**
 * Creates Dawn's WebGPU entry point in Node (npm package `webgpu`); with no GPU adapter and no
 * VK_ICD_FILENAMES set, falls back to SwiftShader from the `chromium` package when present.
 */
export async function createNodeGpu(allowSoftware = true): Promise<NodeGpu> {
  let dawn: DawnModule;
  try {
    dawn = (await importAtRuntime('webgpu')) as DawnModule;
  } catch (error) {
    const why = isNotInstalled(error) ? 'it is not installed' : `it failed to load: ${describeError(error)}`;
    throw unavailable(`webgpu in Node needs the npm package 'webgpu' (Dawn), but ${why}; install it: npm install webgpu`, error);
  }
  installGlobals(dawn.globals);
  const nodeProcess = (await importAtRuntime('node:process')) as { env: Record<string, string | undefined> };
  const fs = (await importAtRuntime('node:fs')) as { existsSync(path: string): boolean };
  const userIcd = nodeProcess.env['VK_ICD_FILENAMES'];

  // 1. Whatever Vulkan/Metal/D3D driver the machine has (on Linux without the system's Vulkan
  //    loader, chromium's, so that Dawn does not fail to load Vulkan at all).
  const vulkan = await loadVulkanLoader(fs);
  let gpu = dawn.create([]);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter !== null) return { gpu, ...nameOf(adapter) };

  if (userIcd !== undefined && userIcd !== '') {
    throw unavailable(`webgpu: Dawn found no adapter with VK_ICD_FILENAMES=${userIcd}`);
  }
  if (!allowSoftware) throw unavailable('webgpu: Dawn found no GPU adapter (software fallback disabled)');
  if (!fs.existsSync(SWIFTSHADER_ICD_PATH)) {
    throw unavailable(
      'webgpu: Dawn found no GPU adapter, and no software Vulkan driver is installed. ' +
        `Install SwiftShader with Debian/Ubuntu's chromium package (apt-get install -y chromium, which ` +
        `provides ${SWIFTSHADER_ICD_PATH}) or point VK_ICD_FILENAMES at another Vulkan driver manifest.`,
    );
  }

  // 2. SwiftShader: tell the Vulkan loader where the driver is.
  nodeProcess.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD_PATH;
  gpu = dawn.create([]);
  adapter = await gpu.requestAdapter();
  if (adapter === null) {
    throw unavailable(
      `webgpu: Dawn found no adapter, not even SwiftShader (${SWIFTSHADER_ICD_PATH}; Vulkan loader: ${vulkan}); ` +
        'install the Vulkan loader (apt-get install -y libvulkan1) and try again.',
    );
  }
  return { gpu, ...nameOf(adapter) };
}

function nameOf(adapter: WebGpuAdapter): { adapter: string; software: boolean; summary: WebGpuAdapterSummary } {
  const summary = summariseAdapter(adapter);
  return { adapter: summary.name, software: summary.software, summary };
}

/** Makes `navigator.gpu` the given entry point, creating `navigator` where Node has none (Node 20). */
export function installNavigatorGpu(gpu: WebGpuEntry): void {
  const scope = globalThis as { navigator?: object };
  if (scope.navigator === undefined || scope.navigator === null) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, writable: true, configurable: true, enumerable: true });
  }
  Object.defineProperty(scope.navigator as object, 'gpu', { value: gpu, writable: true, configurable: true, enumerable: true });
}

/** Adds Dawn's WebGPU classes and constants (GPUBufferUsage, ...) to globalThis where missing. */
function installGlobals(globals: Record<string, unknown>): void {
  const scope = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in scope)) scope[name] = value;
  }
}

/**
 * Makes sure a Vulkan loader (libvulkan.so.1) is in the process on Linux: the system's if it has
 * one, else the copy chromium ships next to SwiftShader. Returns which, for error messages.
 */
async function loadVulkanLoader(fs: { existsSync(path: string): boolean }): Promise<string> {
  const os = (await importAtRuntime('node:os')) as {
    platform(): string;
    constants: { dlopen: Record<string, number | undefined> };
  };
  if (os.platform() !== 'linux') return 'not needed on this platform';
  const nodeProcess = (await importAtRuntime('node:process')) as {
    dlopen(module: { exports: unknown }, filename: string, flags?: number): void;
  };
  const flags = (os.constants.dlopen['RTLD_NOW'] ?? 2) | (os.constants.dlopen['RTLD_GLOBAL'] ?? 256) | RTLD_NODELETE;
  // Neither is a Node addon, so dlopen always throws; "did not self-register" means it loaded, and
  // RTLD_NODELETE keeps it loaded, where Dawn's own dlopen("libvulkan.so.1") finds it by its soname.
  const load = (filename: string): boolean => {
    try {
      nodeProcess.dlopen({ exports: {} }, filename, flags);
      return true;
    } catch (error) {
      return /self-register/.test(describeError(error));
    }
  };
  if (load('libvulkan.so.1')) return "the system's libvulkan.so.1";
  if (fs.existsSync(CHROMIUM_VULKAN_LOADER) && load(CHROMIUM_VULKAN_LOADER)) return CHROMIUM_VULKAN_LOADER;
  return 'none found (apt-get install -y libvulkan1)';
}
