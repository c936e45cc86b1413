// The browser-safe entry: no Node imports, no native code. `@tfjs-diffusion/backends/node` adds
// tfjs-node, WebGPU on Dawn and the native OpenBLAS kernels.
export { selectBackend } from './browser.js';
export {
  AUTO_ORDER,
  BACKEND_PACKAGES,
  parseBackendName,
  type BackendLoader,
  type BackendLoaders,
  type BackendSelection,
  type ConcreteBackend,
  type SelectBackendOptions,
} from './backend-selection.js';
export { BACKEND_ENVIRONMENT_VARIABLE, backendFromEnvironment } from './backend-from-environment.js';
export {
  TRAINING_KERNEL_NAMES,
  hasTrainingKernels,
  registerTrainingKernels,
  restoreTfjsKernels,
  type TrainingKernelBackend,
} from './training-kernel-registry.js';
export {
  isSoftwareRenderer,
  readAdapterInfo,
  summariseAdapter,
  type WebGpuAdapter,
  type WebGpuAdapterInfo,
  type WebGpuAdapterSummary,
  type WebGpuEntry,
} from './webgpu-adapter.js';
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
export { oneHotKernel } from './one-hot.js';
export { splitVKernel } from './split-v.js';
