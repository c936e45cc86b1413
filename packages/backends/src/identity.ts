import { Cast, Identity, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Identity for wasm that shares the input's memory (one more reference, as tfjs-backend-cpu and
 * wasm's own Reshape do) instead of copying it: tfjs-backend-wasm 4.22 allocates and copies, and
 * gradient bookkeeping calls Identity thousands of times per U-Net training step (5% of it).
 * Safe because tensors are immutable; the data is freed when its last reference goes.
 */
export function identityKernel(backendName: string, replaced?: KernelConfig): KernelConfig {
  return {
    kernelName: Identity,
    backendName,
    ...(replaced?.setupFunc ? { setupFunc: replaced.setupFunc } : {}),
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = inputs['x'] as TensorInfo;
      const shared = backend as unknown as { incRef?(dataId: object): void };
      if (typeof shared.incRef !== 'function') {
        if (replaced === undefined) throw new Error(`backend '${backendName}' has no Identity kernel to delegate to`);
        return replaced.kernelFunc({ inputs, attrs, backend });
      }
      shared.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  };
}

/**
 * Cast for wasm that shares the input's memory when the dtype does not change: tfjs-backend-wasm
 * 4.22 copies, and every gradient of a product casts its operands to float32 (about 480 copies
 * per U-Net training step). Other casts go to tfjs's kernel.
 */
export function sameDtypeCastKernel(backendName: string, replaced?: KernelConfig): KernelConfig {
  return {
    kernelName: Cast,
    backendName,
    ...(replaced?.setupFunc ? { setupFunc: replaced.setupFunc } : {}),
    kernelFunc: ({ inputs, attrs, backend }) => {
      const x = inputs['x'] as TensorInfo;
      const { dtype } = attrs as unknown as { dtype: string };
      const shared = backend as unknown as { incRef?(dataId: object): void };
      if (dtype !== x.dtype || typeof shared.incRef !== 'function') {
        if (replaced === undefined) throw new Error(`backend '${backendName}' has no Cast kernel to delegate to`);
        return replaced.kernelFunc({ inputs, attrs, backend });
      }
      shared.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  };
}
