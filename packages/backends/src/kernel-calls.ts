import { getKernel, type KernelBackend, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Runs another kernel of the same backend directly on tensor infos, the way tfjs's own kernels
 * compose (no engine bookkeeping, no tape); the caller disposes what it gets back.
 */
export function callKernel(
  kernelName: string,
  backendName: string,
  backend: KernelBackend,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, backendName);
  if (kernel === undefined) {
    throw new Error(`backend '${backendName}' has no '${kernelName}' kernel`);
  }
  const output = kernel.kernelFunc({ inputs, attrs, backend });
  const info = Array.isArray(output) ? output[0] : output;
  if (info === undefined) {
    throw new Error(`kernel '${kernelName}' on '${backendName}' returned no output`);
  }
  return info;
}

/** Frees intermediate tensor infos made inside a kernel (reshape outputs share data and only drop a reference). */
export function disposeIntermediates(backend: KernelBackend, infos: readonly TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}
