// The Node entry: everything of the browser-safe entry, with `selectBackend` and
// `registerTrainingKernels` that also know tfjs-node, WebGPU on Dawn (npm `webgpu`) and the native
// OpenBLAS kernels.
export * from './index.js';
export { selectBackend } from './select-backend.js';
export { hasNativeKernels, registerTrainingKernels, type RegisterTrainingKernelsOptions } from './training-kernels.js';
export {
  CONV2D_RESIDUAL_KERNEL_NAME,
  GROUP_NORM_GRAD_KERNEL_NAME,
  GROUP_NORM_KERNEL_NAME,
  NATIVE_AVX512_KERNEL_NAMES,
  NATIVE_ENVIRONMENT,
  NATIVE_KERNEL_NAMES,
  loadNativeKernels,
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
  type NativeKernelStatus,
} from './native-kernels.js';
export { SWIFTSHADER_ICD_PATH, createNodeGpu, installNavigatorGpu, type NodeGpu } from './webgpu-node.js';
