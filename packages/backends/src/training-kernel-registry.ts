import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';

import { batchMatMulKernel } from './batch-mat-mul.js';
import { identityKernel, sameDtypeCastKernel } from './identity.js';
import { oneHotKernel } from './one-hot.js';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { depthwiseConv2dBackpropFilterKernel, depthwiseConv2dBackpropInputKernel } from './depthwise-conv2d-backprop.js';
import { avgPoolGradKernel, maxPoolGradKernel, resizeBilinearGradKernel, resizeNearestNeighborGradKernel } from './pooling-gradients.js';
import { splitVKernel } from './split-v.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';

/** Backends that get this package's training kernels. */
export type TrainingKernelBackend = 'cpu' | 'wasm';

/** Makes a kernel config; `replaced` is the kernel it replaces, for kernels that delegate cases to it. */
export type KernelFactory = (backendName: string, replaced?: KernelConfig) => KernelConfig;

/** The JavaScript/wasm training kernels per backend (browser-safe: no native code). */
export const TRAINING_KERNEL_FACTORIES: Readonly<Record<TrainingKernelBackend, readonly KernelFactory[]>> = {
  // tfjs-backend-cpu 4.22: slow (Conv2DBackpropFilter 40-55 s for one U-Net layer, the depthwise
  // filter gradient, UnsortedSegmentSum, AvgPoolGrad, MaxPoolGrad) or wrong (ResizeNearestNeighborGrad for
  // batch > 1 and downsampling; ResizeBilinearGrad with halfPixelCenters, and its output shape for
  // non-square images; AvgPoolGrad at 'same' borders).
  cpu: [
    conv2dBackpropFilterKernel,
    unsortedSegmentSumKernel,
    depthwiseConv2dBackpropFilterKernel,
    depthwiseConv2dBackpropInputKernel,
    resizeNearestNeighborGradKernel,
    (backendName) => resizeBilinearGradKernel(backendName),
    avgPoolGradKernel,
    maxPoolGradKernel,
  ],
  // tfjs-backend-wasm 4.22: missing (Conv2DBackpropFilter, UnsortedSegmentSum, both depthwise
  // gradients), slow (Conv2DBackpropInput, a naive loop 10x slower than Conv2D) or wrong
  // (MaxPoolGrad; ResizeNearestNeighborGrad and ResizeBilinearGrad with halfPixelCenters, where
  // ours takes over from tfjs's ResizeBilinearGrad; AvgPoolGrad at 'same' borders).
  // ... and BatchMatMul with a transposed operand, 5-8x slower than Transpose + BatchMatMul;
  // SplitV (every Concat's gradient), one typed-array allocation per copied row.
  // ... and OneHot, whose float32 output holds int32 bit patterns; Identity and same-dtype Cast, which copy.
  wasm: [
    oneHotKernel,
    identityKernel,
    sameDtypeCastKernel,
    batchMatMulKernel,
    splitVKernel,
    conv2dBackpropFilterKernel,
    conv2dBackpropInputKernel,
    unsortedSegmentSumKernel,
    depthwiseConv2dBackpropFilterKernel,
    depthwiseConv2dBackpropInputKernel,
    maxPoolGradKernel,
    resizeNearestNeighborGradKernel,
    resizeBilinearGradKernel,
    avgPoolGradKernel,
  ],
};

/** The kernels `registerTrainingKernels` installs per backend: missing, slow or wrong in tfjs 4.22. */
export const TRAINING_KERNEL_NAMES: Readonly<Record<TrainingKernelBackend, readonly string[]>> = {
  cpu: TRAINING_KERNEL_FACTORIES.cpu.map((factory) => factory('cpu').kernelName),
  wasm: TRAINING_KERNEL_FACTORIES.wasm.map((factory) => factory('wasm').kernelName),
};

interface InstalledKernels {
  /** `${kernelName}/${backendName}` -> our config and the one it replaced (if any). */
  readonly installed: Map<string, { readonly ours: KernelConfig; readonly replaced: KernelConfig | undefined; readonly native: boolean }>;
}

// Kept on globalThis, like tfjs's own kernel registry, so that two copies of this module (a
// bundle and a workspace source, or the package's two entries) agree on what is installed and
// what it replaced.
const globalKey = Symbol.for('@tfjs-diffusion/backends:training-kernels');
function state(): InstalledKernels {
  const holder = globalThis as unknown as Record<symbol, InstalledKernels | undefined>;
  let current = holder[globalKey];
  if (current === undefined) {
    current = { installed: new Map() };
    holder[globalKey] = current;
  }
  return current;
}

/**
 * Registers `list` for the backend, replacing the kernels there (idempotent); `nativeNames` are
 * the ones that are native code this time. A kernel a previous call installed as native and this
 * call does not gets the kernel it replaced back first. Returns the names this call installed.
 */
export function installKernelFactories(
  backendName: TrainingKernelBackend,
  list: readonly KernelFactory[],
  nativeNames: ReadonlySet<string>,
): string[] {
  const { installed } = state();
  const names: string[] = [];
  for (const [key, entry] of installed) {
    if (entry.ours.backendName !== backendName || !entry.native || nativeNames.has(entry.ours.kernelName)) continue;
    if (getKernel(entry.ours.kernelName, backendName) === entry.ours) unregisterKernel(entry.ours.kernelName, backendName);
    if (entry.replaced !== undefined && getKernel(entry.ours.kernelName, backendName) === undefined) registerKernel(entry.replaced);
    installed.delete(key);
  }
  for (const factory of list) {
    const kernelName = factory(backendName).kernelName;
    const native = nativeNames.has(kernelName);
    const key = `${kernelName}/${backendName}`;
    const current = getKernel(kernelName, backendName) as KernelConfig | undefined;
    const previous = installed.get(key);
    if (previous !== undefined && current === previous.ours && previous.native === native) continue;
    const replaced = previous?.replaced ?? current;
    const ours = factory(backendName, replaced);
    if (current !== undefined) unregisterKernel(kernelName, backendName);
    registerKernel(ours);
    installed.set(key, { ours, replaced, native });
    names.push(kernelName);
  }
  return names;
}

/**
 * Registers this package's training kernels (TRAINING_KERNEL_NAMES: the filter gradient as a
 * conv2d, UnsortedSegmentSum, ...) for 'cpu' or 'wasm', replacing tfjs's; idempotent; works in
 * browsers and Node (the `./node` entry's version adds native kernels). Returns the names this
 * call installed.
 */
export function registerTrainingKernels(backendName: TrainingKernelBackend): string[] {
  return installKernelFactories(backendName, TRAINING_KERNEL_FACTORIES[backendName], new Set());
}

/** Whether the kernel a previous registration installed is the one now registered, and whether it was native. */
export function installedKernel(
  kernelName: string,
  backendName: TrainingKernelBackend,
): { readonly current: boolean; readonly native: boolean } | undefined {
  const entry = state().installed.get(`${kernelName}/${backendName}`);
  return entry === undefined ? undefined : { current: getKernel(kernelName, backendName) === entry.ours, native: entry.native };
}

/** Puts back the kernels `registerTrainingKernels` replaced (tfjs's own), e.g. to compare speed. */
export function restoreTfjsKernels(backendName: TrainingKernelBackend): void {
  const { installed } = state();
  for (const [key, { ours, replaced }] of installed) {
    if (ours.backendName !== backendName) continue;
    if (getKernel(ours.kernelName, backendName) === ours) unregisterKernel(ours.kernelName, backendName);
    if (replaced !== undefined && getKernel(ours.kernelName, backendName) === undefined) registerKernel(replaced);
    installed.delete(key);
  }
}

/** Whether this package's training kernels are the ones now registered for the backend. */
export function hasTrainingKernels(backendName: TrainingKernelBackend): boolean {
  return TRAINING_KERNEL_NAMES[backendName].every((name) => installedKernel(name, backendName)?.current === true);
}
