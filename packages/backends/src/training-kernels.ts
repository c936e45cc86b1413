import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';

import { batchMatMulKernel } from './batch-mat-mul.js';
import { identityKernel, sameDtypeCastKernel } from './identity.js';
import { oneHotKernel } from './one-hot.js';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { depthwiseConv2dBackpropFilterKernel, depthwiseConv2dBackpropInputKernel } from './depthwise-conv2d-backprop.js';
import {
  avgPoolGradKernel,
  maxPoolGradKernel,
  resizeBilinearGradKernel,
  resizeNearestNeighborGradKernel,
} from './pooling-gradients.js';
import {
  NATIVE_KERNEL_NAMES,
  nativeBatchMatMulKernel,
  nativeConv2dBackpropFilterKernel,
  nativeConv2dBackpropInputKernel,
  nativeConv2dKernel,
  nativeKernelStatus,
  nativeConcatKernel,
  nativeSigmoidKernel,
  nativeSplitVKernel,
  nativeSumKernel,
  type NativeAddon,
} from './native-kernels.js';
import { splitVKernel } from './split-v.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';

/** Backends that get this package's training kernels. */
export type TrainingKernelBackend = 'cpu' | 'wasm';

/** Makes a kernel config; `replaced` is the kernel it replaces, for kernels that delegate cases to it. */
type KernelFactory = (backendName: string, replaced?: KernelConfig) => KernelConfig;

const factories: Readonly<Record<TrainingKernelBackend, readonly KernelFactory[]>> = {
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
  cpu: factories.cpu.map((factory) => factory('cpu').kernelName),
  wasm: factories.wasm.map((factory) => factory('wasm').kernelName),
};

/**
 * The native (OpenBLAS) kernels layered over a backend's list: each one takes over its kernel and
 * falls back on what it wraps (this package's kernel of the same name, else tfjs's) for the cases
 * it does not handle (NCHW, other activations, dtypes other than float32).
 */
function withNativeKernels(list: readonly KernelFactory[], addon: NativeAddon, names: readonly string[]): KernelFactory[] {
  const all: Record<string, KernelFactory> = {
    Conv2D: nativeConv2dKernel(addon, 'Conv2D'),
    FusedConv2D: nativeConv2dKernel(addon, 'FusedConv2D'),
    Conv2DBackpropFilter: nativeConv2dBackpropFilterKernel(addon),
    Conv2DBackpropInput: nativeConv2dBackpropInputKernel(addon),
    BatchMatMul: nativeBatchMatMulKernel(addon),
    Sum: nativeSumKernel(addon),
    Concat: nativeConcatKernel(addon),
    SplitV: nativeSplitVKernel(addon),
    Sigmoid: nativeSigmoidKernel(addon),
  };
  const native = Object.fromEntries(Object.entries(all).filter(([name]) => names.includes(name)));
  const wrapped = list.map((factory): KernelFactory => {
    const name = factory('probe').kernelName;
    const outer = native[name];
    if (outer === undefined) return factory;
    delete native[name];
    // the package's kernel (itself wrapping tfjs's) becomes the native kernel's fallback
    return (backendName, replaced) => outer(backendName, factory(backendName, replaced));
  });
  return [...wrapped, ...Object.values(native)];
}

function factoriesFor(backendName: TrainingKernelBackend, native: boolean): readonly KernelFactory[] {
  const status = native ? nativeKernelStatus() : undefined;
  return status?.available === true ? withNativeKernels(factories[backendName], status.addon, status.kernels) : factories[backendName];
}

/** The kernels the native addon replaces when it is loaded (see `loadNativeKernels`). */
export { NATIVE_KERNEL_NAMES };

/** Options of `registerTrainingKernels`. */
export interface RegisterTrainingKernelsOptions {
  /** Also register the native OpenBLAS kernels when `loadNativeKernels()` has loaded them (default true). */
  readonly native?: boolean;
}

interface InstalledKernels {
  /** `${kernelName}/${backendName}` -> our config and the one it replaced (if any). */
  readonly installed: Map<string, { readonly ours: KernelConfig; readonly replaced: KernelConfig | undefined; readonly native: boolean }>;
}

// Kept on globalThis, like tfjs's own kernel registry, so that two copies of this module (a
// bundle and a workspace source) agree on what is installed and what it replaced.
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
 * Registers this package's training kernels (TRAINING_KERNEL_NAMES: the filter gradient as a
 * conv2d, ...) for 'cpu' or 'wasm', replacing tfjs's, plus the native OpenBLAS kernels
 * (NATIVE_KERNEL_NAMES) when `loadNativeKernels()` has loaded them; idempotent. Returns the names
 * this call installed.
 */
export function registerTrainingKernels(backendName: TrainingKernelBackend, options: RegisterTrainingKernelsOptions = {}): string[] {
  const { installed } = state();
  const names: string[] = [];
  const list = factoriesFor(backendName, options.native !== false);
  const status = nativeKernelStatus();
  const nativeNames = new Set(list === factories[backendName] || status?.available !== true ? [] : status.kernels);
  // kernels a previous call installed natively that this call does not: put the replaced one back first
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

/** Whether the native kernels are the ones now registered for the backend. */
export function hasNativeKernels(backendName: TrainingKernelBackend): boolean {
  const { installed } = state();
  return NATIVE_KERNEL_NAMES.every((name) => {
    const entry = installed.get(`${name}/${backendName}`);
    return entry !== undefined && entry.native && getKernel(name, backendName) === entry.ours;
  });
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
  const { installed } = state();
  return TRAINING_KERNEL_NAMES[backendName].every((name) => {
    const entry = installed.get(`${name}/${backendName}`);
    return entry !== undefined && getKernel(name, backendName) === entry.ours;
  });
}
