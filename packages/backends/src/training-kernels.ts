import {
  CONV2D_RESIDUAL_KERNEL_NAME,
  GROUP_NORM_GRAD_KERNEL_NAME,
  GROUP_NORM_KERNEL_NAME,
  NATIVE_KERNEL_NAMES,
  nativeBatchMatMulKernel,
  nativeConv2dBackpropFilterKernel,
  nativeConv2dBackpropInputKernel,
  nativeConv2dKernel,
  nativeKernelStatus,
  nativeConcatKernel,
  nativeGroupNormGradKernel,
  nativeGroupNormKernel,
  nativeSigmoidKernel,
  nativeSoftmaxKernel,
  nativeResizeNearestNeighborKernel,
  nativeSliceKernel,
  nativeSplitVKernel,
  nativeSumKernel,
  registerGroupNormGradient,
  type NativeAddon,
} from './native-kernels.js';
import {
  TRAINING_KERNEL_FACTORIES,
  TRAINING_KERNEL_NAMES,
  hasTrainingKernels,
  installKernelFactories,
  installedKernel,
  restoreTfjsKernels,
  type KernelFactory,
  type TrainingKernelBackend,
} from './training-kernel-registry.js';

// The Node side of the training kernels: the browser-safe list (training-kernel-registry.ts)
// with the native OpenBLAS kernels layered over it.
export { TRAINING_KERNEL_NAMES, hasTrainingKernels, restoreTfjsKernels, type TrainingKernelBackend };

/**
 * The native (OpenBLAS) kernels layered over a backend's list: each one takes over its kernel and
 * falls back on what it wraps (this package's kernel of the same name, else tfjs's) for the cases
 * it does not handle (NCHW, other activations, dtypes other than float32).
 */
function withNativeKernels(list: readonly KernelFactory[], addon: NativeAddon, names: readonly string[]): KernelFactory[] {
  const all: Record<string, KernelFactory> = {
    Conv2D: nativeConv2dKernel(addon, 'Conv2D'),
    FusedConv2D: nativeConv2dKernel(addon, 'FusedConv2D'),
    [CONV2D_RESIDUAL_KERNEL_NAME]: nativeConv2dKernel(addon, CONV2D_RESIDUAL_KERNEL_NAME),
    Conv2DBackpropFilter: nativeConv2dBackpropFilterKernel(addon),
    Conv2DBackpropInput: nativeConv2dBackpropInputKernel(addon),
    BatchMatMul: nativeBatchMatMulKernel(addon),
    Sum: nativeSumKernel(addon),
    Concat: nativeConcatKernel(addon),
    SplitV: nativeSplitVKernel(addon),
    Slice: nativeSliceKernel(addon),
    ResizeNearestNeighbor: nativeResizeNearestNeighborKernel(addon),
    Sigmoid: nativeSigmoidKernel(addon),
    Softmax: nativeSoftmaxKernel(addon),
    [GROUP_NORM_KERNEL_NAME]: nativeGroupNormKernel(addon),
    [GROUP_NORM_GRAD_KERNEL_NAME]: nativeGroupNormGradKernel(addon),
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

/** The kernels the native addon replaces when it is loaded (see `loadNativeKernels`). */
export { NATIVE_KERNEL_NAMES };

/** Options of `registerTrainingKernels`. */
export interface RegisterTrainingKernelsOptions {
  /** Also register the native OpenBLAS kernels when `loadNativeKernels()` has loaded them (default true). */
  readonly native?: boolean;
}

/**
 * Registers this package's training kernels (TRAINING_KERNEL_NAMES: the filter gradient as a
 * conv2d, ...) for 'cpu' or 'wasm', replacing tfjs's, plus the native OpenBLAS kernels
 * (NATIVE_KERNEL_NAMES) when `loadNativeKernels()` has loaded them; idempotent. Returns the names
 * this call installed.
 */
export function registerTrainingKernels(backendName: TrainingKernelBackend, options: RegisterTrainingKernelsOptions = {}): string[] {
  const status = options.native !== false ? nativeKernelStatus() : undefined;
  if (status?.available !== true) return installKernelFactories(backendName, TRAINING_KERNEL_FACTORIES[backendName], new Set());
  const list = withNativeKernels(TRAINING_KERNEL_FACTORIES[backendName], status.addon, status.kernels);
  if (status.kernels.includes(GROUP_NORM_KERNEL_NAME)) registerGroupNormGradient();
  return installKernelFactories(backendName, list, new Set(status.kernels));
}

/** Whether the native kernels are the ones now registered for the backend. */
export function hasNativeKernels(backendName: TrainingKernelBackend): boolean {
  return NATIVE_KERNEL_NAMES.every((name) => {
    const entry = installedKernel(name, backendName);
    return entry !== undefined && entry.native && entry.current;
  });
}
