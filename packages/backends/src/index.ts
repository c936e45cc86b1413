export {
  AUTO_ORDER,
  parseBackendName,
  selectBackend,
  type SelectBackendOptions,
} from './select-backend.js';
export { BACKEND_ENVIRONMENT_VARIABLE, backendFromEnvironment } from './backend-from-environment.js';
export {
  NATIVE_KERNEL_NAMES,
  TRAINING_KERNEL_NAMES,
  hasNativeKernels,
  hasTrainingKernels,
  registerTrainingKernels,
  restoreTfjsKernels,
  type RegisterTrainingKernelsOptions,
  type TrainingKernelBackend,
} from './training-kernels.js';
export {
  NATIVE_AVX512_KERNEL_NAMES,
  NATIVE_ENVIRONMENT,
  loadNativeKernels,
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
  type NativeKernelStatus,
} from './native-kernels.js';
export { conv2dBackpropFilterAsConvolution, conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
export { conv2dBackpropInputAsConvolution, conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
export {
  depthwiseConv2dBackpropFilterKernel,
  depthwiseConv2dBackpropFilterOnHost,
  depthwiseConv2dBackpropInputKernel,
  depthwiseConv2dBackpropInputOnHost,
} from './depthwise-conv2d-backprop.js';
export {
  avgPoolGradKernel,
  avgPoolGradOnHost,
  maxPoolGradKernel,
  maxPoolGradOnHost,
  resizeBilinearGradKernel,
  resizeBilinearGradOnHost,
  resizeNearestNeighborGradKernel,
  resizeNearestNeighborGradOnHost,
} from './pooling-gradients.js';
export { unsortedSegmentSumKernel, unsortedSegmentSumOnHost } from './unsorted-segment-sum.js';
export { SWIFTSHADER_ICD_PATH, createNodeGpu, installNavigatorGpu, type NodeGpu, type WebGpuEntry } from './webgpu-node.js';
