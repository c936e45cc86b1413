import * as tf from '@tensorflow/tfjs-core';
import { createUNet, unetPresets } from '@tfjs-diffusion/networks';

/** One kernel call as tf.profile reports it. */
export interface ProfiledKernel {
  readonly name: string;
  readonly inputShapes: readonly (readonly number[] | undefined)[];
  readonly outputShapes: readonly (readonly number[] | undefined)[];
}

const product = (shape: readonly number[]): number => shape.reduce((total, size) => total * size, 1);

/**
 * FLOPs of one kernel call, counting a multiply-add as 2: convolutions (2 * outputs * kh * kw * Cin)
 * and matrix products (2 * outputs * K); every other kernel counts 0 (element-wise work is a few
 * FLOPs per value, under 1 % of the U-Net's total).
 */
export function kernelFlops(kernel: ProfiledKernel): number {
  const out = kernel.outputShapes[0];
  if (out === undefined) return 0;
  // TfjsDiffusionConv2DResidual (@tfjs-diffusion/backends): a FusedConv2D whose residual sum is element-wise
  if (kernel.name === 'Conv2D' || kernel.name === 'FusedConv2D' || kernel.name === 'TfjsDiffusionConv2DResidual') {
    const filter = kernel.inputShapes[1];
    if (filter === undefined || filter.length !== 4) return 0;
    return 2 * product(out) * (filter[0] as number) * (filter[1] as number) * (filter[2] as number);
  }
  if (kernel.name === 'BatchMatMul' || kernel.name === '_FusedMatMul') {
    const a = kernel.inputShapes[0];
    if (a === undefined || a.length < 2 || out.length < 2) return 0;
    const rows = out[out.length - 2] as number;
    // a is [.., M, K], or [.., K, M] when transposed
    const shared = a[a.length - 2] === rows ? (a[a.length - 1] as number) : (a[a.length - 2] as number);
    return 2 * product(out) * shared;
  }
  // @tfjs-diffusion/backends' fused GroupNorm: counted as the two [1, HW] x [HW, C] sums (of x and
  // x^2) its tf-ops form runs as matrix products, so the count is the same with and without it
  if (kernel.name === 'TfjsDiffusionGroupNorm') {
    const x = kernel.inputShapes[0];
    return x === undefined ? 0 : 4 * product(x);
  }
  return 0;
}

/** FLOPs of the convolution and matrix-product kernels `run` calls (tf.profile on the active backend; kernelFlops per call). */
export async function countFlops(run: () => void): Promise<number> {
  await tf.ready();
  const info = await tf.profile(() => tf.tidy(run));
  return info.kernels.reduce((total, kernel) => total + kernelFlops(kernel as unknown as ProfiledKernel), 0);
}

/**
 * FLOPs of one forward pass of the 'torch-peer' U-Net (shared/peers/torch_unet.py) per image, from
 * the shapes of the kernels a batch-1 forward runs on the active backend (one must be registered).
 */
export async function torchPeerForwardFlops(): Promise<number> {
  await tf.ready();
  const model = createUNet({ ...unetPresets['torch-peer'] });
  const x = tf.zeros([1, 32, 32, 1]);
  const timesteps = tf.tensor1d([500]);
  const classLabels = tf.tensor1d([3], 'int32');
  try {
    return await countFlops(() => {
      model.predict({ x, timesteps, condition: { classLabels } }).prediction.dataSync();
    });
  } finally {
    tf.dispose([x, timesteps, classLabels]);
    model.dispose();
  }
}
