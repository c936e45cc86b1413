import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import {
  GROUP_NORM_GRAD_KERNEL_NAME,
  GROUP_NORM_KERNEL_NAME,
  loadNativeKernels,
  registerTrainingKernels,
  selectBackend,
} from '@tfjs-diffusion/backends/node';
import { GROUP_NORM_KERNEL, adaptiveGroupNorm, canFuseGroupNorm, createUNet, type UNetModel } from '@tfjs-diffusion/networks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Not exported by @tfjs-diffusion/networks: applyGroupNorm (GroupNorm + affine + activation), from its sources.
import { applyGroupNorm } from '../../networks/src/group-norm.js';
import { ParameterStore } from '../../networks/src/parameter-store.js';

/**
 * The fused GroupNorm kernel (TfjsDiffusionGroupNorm: GroupNorm, its affine or AdaGN's scale and
 * shift, and SiLU in one native kernel, registered on cpu and wasm when the addon loads on an
 * AVX-512 CPU, with its native gradient TfjsDiffusionGroupNormGrad) against the tf ops the networks
 * use everywhere else (webgpu, no addon): forward values and gradients within 1e-4 (relative to the
 * largest value, at least 1), and no tensor left behind.
 */
const TOLERANCE = 1e-4;

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let index = 0; index < a.length; index += 1) worst = Math.max(worst, Math.abs((a[index] as number) - (b[index] as number)));
  return worst;
}

/** Max abs difference over max(1, max |expected|). */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 1;
  for (const value of expected) scale = Math.max(scale, Math.abs(value));
  return maxAbsDifference(actual, expected) / scale;
}

function random(shape: number[], seed: string, scale = 1, offset = 0): tf.Tensor {
  const values = createNoiseSource(seed).normal(shape);
  return tf.tensor(
    values.map((value) => offset + scale * value),
    shape,
  );
}

function createNet(useScaleShiftNorm: boolean): UNetModel {
  const model = createUNet({
    imageSize: 8,
    inChannels: 2,
    modelChannels: 16,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [4],
    numHeads: 2,
    groupNormGroups: 4,
    resblockUpdown: true,
    useScaleShiftNorm,
    numClasses: 3,
    seed: 'fused-group-norm',
  });
  const source = createNoiseSource('fused-group-norm-weights');
  for (const variable of model.parameters.values()) {
    tf.tidy(() => variable.assign(tf.mul(tf.tensor(source.normal(variable.shape), variable.shape), 0.3)));
  }
  return model;
}

const status = await loadNativeKernels();
const fusedHere = status.available && status.kernels.includes(GROUP_NORM_KERNEL_NAME);

it('networks call the kernel by the name the backends register', () => {
  expect(GROUP_NORM_KERNEL).toBe(GROUP_NORM_KERNEL_NAME);
});

for (const backend of ['cpu', 'wasm'] as const) {
  // the kernel exists only with the native addon on an AVX-512 CPU; in CI it must be there
  (fusedHere || process.env['CI'] ? describe : describe.skip)(`fused GroupNorm against tf ops [${backend}]`, () => {
    let kernel: tf.KernelConfig;
    /** Runs `body` with the fused kernel registered (true) or not (false: the networks' tf ops). */
    function withFused<T>(fused: boolean, body: () => T): T {
      if (!fused) tf.unregisterKernel(GROUP_NORM_KERNEL_NAME, backend);
      try {
        expect(tf.tidy(() => canFuseGroupNorm(tf.zeros([1, 1, 1, 4])))).toBe(fused);
        return body();
      } finally {
        if (!fused) tf.registerKernel(kernel);
      }
    }

    beforeAll(async () => {
      await selectBackend(backend);
      registerTrainingKernels(backend);
      kernel = tf.getKernel(GROUP_NORM_KERNEL_NAME, backend) as tf.KernelConfig;
      expect(kernel).toBeDefined();
    });
    afterAll(() => registerTrainingKernels(backend));

    it('GroupNorm with affine, AdaGN, with and without SiLU: within 1e-4, nothing left behind', () => {
      const store = new ParameterStore('fused', 'fused-group-norm-store');
      const norm = store.groupNorm('norm', 24, 6);
      tf.tidy(() => {
        (norm.weight as tf.Variable).assign(random([24], 'gamma', 0.5, 1));
        (norm.bias as tf.Variable).assign(random([24], 'beta', 0.5));
      });
      const cases: [string, () => tf.Tensor][] = [];
      const x = random([3, 5, 7, 24], 'x', 2, 0.5) as tf.Tensor4D;
      const far = random([2, 4, 4, 24], 'far', 0.3, 4) as tf.Tensor4D;
      const scaleShift = random([3, 48], 'scale-shift', 0.5) as tf.Tensor2D;
      cases.push(['GroupNorm', () => applyGroupNorm(x, norm)]);
      cases.push(['GroupNorm + SiLU', () => applyGroupNorm(x, norm, 'silu')]);
      cases.push(['GroupNorm + SiLU, mean 4', () => applyGroupNorm(far, norm, 'silu')]);
      cases.push(['AdaGN', () => adaptiveGroupNorm(x, norm, scaleShift)]);
      cases.push(['AdaGN + SiLU', () => adaptiveGroupNorm(x, norm, scaleShift, 'silu')]);
      for (const [name, run] of cases) {
        const before = tf.memory().numTensors;
        const [fused, unfused] = [true, false].map((on) => withFused(on, () => tf.tidy(() => run().dataSync() as Float32Array)));
        expect(tf.memory().numTensors).toBe(before);
        expect({ name, error: maxAbsDifference(fused as Float32Array, unfused as Float32Array) < TOLERANCE }).toEqual({ name, error: true });
        expect(Math.max(...Array.from(fused as Float32Array, Math.abs))).toBeGreaterThan(0.5);
      }
      tf.dispose([x, far, scaleShift]);
      store.dispose();
    });

    for (const useScaleShiftNorm of [true, false]) {
      it(`a U-Net (${useScaleShiftNorm ? 'AdaGN' : 'GN(h + emb)'}): forward within 1e-4 and gradients within 1e-4 through the fused kernel`, () => {
        const model = createNet(useScaleShiftNorm);
        const x = random([2, 8, 8, 2], 'unet-x');
        const timesteps = tf.tensor1d([3, 700]);
        const classLabels = tf.tensor1d([1, 2], 'int32');
        const predict = (input: tf.Tensor): tf.Tensor => model.predict({ x: input as tf.Tensor4D, timesteps, condition: { classLabels } }).prediction;
        const loss = (input: tf.Tensor): tf.Scalar => tf.mean(tf.square(tf.sub(predict(input), 0.25)));
        const variables = [...model.parameters.values()];
        const run = (fused: boolean) =>
          withFused(fused, () => {
            const before = tf.memory().numTensors;
            const forward = tf.tidy(() => predict(x).dataSync() as Float32Array);
            const gradients = tf.tidy(() => {
              const { grads } = tf.variableGrads(() => loss(x), variables);
              const inputGradient = tf.grad(loss)(x);
              return [...variables.map((variable) => grads[variable.name] as tf.Tensor), inputGradient].map(
                (gradient) => gradient.dataSync() as Float32Array,
              );
            });
            expect(tf.memory().numTensors).toBe(before);
            return { forward, gradients };
          });
        const fused = run(true);
        const unfused = run(false);
        expect(maxAbsDifference(fused.forward, unfused.forward)).toBeLessThan(TOLERANCE);
        expect(Math.max(...Array.from(fused.forward, Math.abs))).toBeGreaterThan(0.1);
        expect(fused.gradients.length).toBe(unfused.gradients.length);
        fused.gradients.forEach((gradient, index) => {
          const expected = unfused.gradients[index] as Float32Array;
          expect({ index, error: relativeError(gradient, expected) < TOLERANCE }).toEqual({ index, error: true });
        });
        // the input gradient is not negligible (the comparison means something)
        expect(Math.max(...Array.from(unfused.gradients[unfused.gradients.length - 1] as Float32Array, Math.abs))).toBeGreaterThan(1e-3);
        tf.dispose([x, timesteps, classLabels]);
        model.dispose();
      });
    }

    it('runs the kernel for every GroupNorm of an evaluation, and its gradient kernel once each under a tape', async () => {
      const model = createNet(true);
      const x = random([2, 8, 8, 2], 'unet-x');
      const timesteps = tf.tensor1d([3, 700]);
      const classLabels = tf.tensor1d([1, 2], 'int32');
      const predict = (input: tf.Tensor): tf.Tensor => model.predict({ x: input as tf.Tensor4D, timesteps, condition: { classLabels } }).prediction;
      const count = (info: { kernels: { name: string }[] }, name = GROUP_NORM_KERNEL_NAME): number =>
        info.kernels.filter((kernel) => kernel.name === name).length;
      const evaluation = await tf.profile(() => tf.tidy(() => void predict(x).dataSync()));
      // one kernel per GroupNorm: every rank-1 weight of the net is a GroupNorm's gamma
      const norms = [...model.parameters.entries()].filter(([name, variable]) => name.endsWith('.weight') && variable.rank === 1).length;
      expect(norms).toBeGreaterThan(10);
      expect(count(evaluation)).toBe(norms);
      const tape = await tf.profile(() =>
        tf.tidy(
          () =>
            void tf
              .grad((input: tf.Tensor) => tf.sum(predict(input)))(x)
              .dataSync(),
        ),
      );
      expect(count(tape)).toBe(norms);
      expect(count(tape, GROUP_NORM_GRAD_KERNEL_NAME)).toBe(norms);
      tf.dispose([x, timesteps, classLabels]);
      model.dispose();
    });
  });
}
