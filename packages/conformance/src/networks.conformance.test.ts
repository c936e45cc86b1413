import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { adaptiveGroupNorm, groupNorm, qkvAttention, type QkvOrder } from '@tfjs-diffusion/networks';
import { expect, it } from 'vitest';

// Not exported by @tfjs-diffusion/networks: the blocks themselves, from its sources.
import { createAttentionBlock } from '../../networks/src/attention.js';
import { createForwardContext } from '../../networks/src/forward-context.js';
import { ParameterStore } from '../../networks/src/parameter-store.js';
import { createResidualBlock, type ResidualBlockOptions } from '../../networks/src/residual-block.js';
import {
  describeOnBackends,
  maxAbs,
  maxAbsDifference,
  readAndDispose,
  reportMeasurement,
  usesSwiftShaderKernels,
  withDefaultWebgpuKernels,
  type ConformanceBackend,
} from './describe-on-backends.js';
import { createParityUNet } from './fixtures.js';
import {
  checkGradients,
  compareInputGradient,
  compareVariableGradient,
  projectToScalar,
  randomTensor,
  randomizeParameters,
} from './gradient-check.js';
import { cpuReference } from './reference.js';

/** Max abs difference of the U-Net's outputs from cpu's (outputs are O(1): see the printed scale). */
const UNET_PARITY_TOLERANCE: Record<ConformanceBackend, number> = { cpu: 0, wasm: 1e-4, webgpu: 1e-3 };
/** Worst |analytic - numeric| / max(|analytic|, |numeric|, ||grad||) (worstScaledError), central difference eps 1e-2 in float32. */
const GRADIENT_TOLERANCE: Record<ConformanceBackend, number> = { cpu: 1e-2, wasm: 1e-2, webgpu: 1e-2 };

interface UNetOutputs {
  readonly prediction: Float32Array;
  readonly varianceValues: Float32Array;
}

/** The parity U-Net with seeded random parameters (none left at zero) on a seeded input. */
async function parityUNetOutputs(): Promise<UNetOutputs> {
  const model = createParityUNet();
  randomizeParameters(model.parameters, 'parity-parameters', 0.3);
  const x = randomTensor([2, 8, 8, 2], 'parity-x');
  const timesteps = tf.tensor1d([3, 700]);
  const classLabels = tf.tensor1d([1, 3], 'int32');
  try {
    const output = model.predict({ x, timesteps, condition: { classLabels } });
    return { prediction: await readAndDispose(output.prediction), varianceValues: await readAndDispose(output.varianceValues as tf.Tensor) };
  } finally {
    tf.dispose([x, timesteps, classLabels]);
    model.dispose();
  }
}

const inference = createForwardContext(false, createNoiseSource(0));

describeOnBackends(
  'networks',
  (backend) => {
    const tolerance = GRADIENT_TOLERANCE[backend.name];

    it('U-Net outputs match the cpu backend (same seeded parameters and input)', async () => {
      const reference = await cpuReference('unet-parity', parityUNetOutputs);
      const kernelSets = backend.name === 'webgpu' && usesSwiftShaderKernels() ? ['suite kernels', 'tfjs default kernels'] : ['tfjs kernels'];
      const results: UNetOutputs[] = [];
      for (const kernels of kernelSets) {
        const tensorsBefore = tf.memory().numTensors;
        const outputs = kernels === 'tfjs default kernels' ? await withDefaultWebgpuKernels(parityUNetOutputs) : await parityUNetOutputs();
        expect(tf.memory().numTensors).toBe(tensorsBefore);
        const difference = Math.max(
          maxAbsDifference(outputs.prediction, reference.prediction),
          maxAbsDifference(outputs.varianceValues, reference.varianceValues),
        );
        reportMeasurement(
          `U-Net parity vs cpu (${kernels}; |output| up to ${maxAbs(reference.prediction).toFixed(2)})`,
          backend.name,
          difference,
          UNET_PARITY_TOLERANCE[backend.name] || 1e-30,
        );
        expect(difference).toBeLessThanOrEqual(UNET_PARITY_TOLERANCE[backend.name]);
        results.push(outputs);
      }
      if (results.length === 2) {
        const [suite, defaults] = results as [UNetOutputs, UNetOutputs];
        reportMeasurement(
          'U-Net suite kernels vs tfjs default kernels',
          backend.name,
          maxAbsDifference(suite.prediction, defaults.prediction),
          UNET_PARITY_TOLERANCE[backend.name],
        );
      }
    });

    it('GroupNorm: input and affine-parameter gradients agree with finite differences', async () => {
      const store = new ParameterStore('gn');
      const parameters = store.groupNorm('norm', 8, 4);
      randomizeParameters(store.parameters, 'gn-parameters', 0.5);
      const x = randomTensor([2, 4, 4, 8], 'gn-x');
      const f = (input: tf.Tensor): tf.Scalar => projectToScalar(groupNorm(input as tf.Tensor4D, 4, parameters), 'gn-w');
      const errors = [
        checkGradients('groupNorm dx', await compareInputGradient(f, x, { seed: 'gn-d' }), tolerance),
        checkGradients('groupNorm dgamma', await compareVariableGradient(() => f(x), parameters.weight as tf.Variable), tolerance),
      ];
      reportMeasurement('GroupNorm gradient', backend.name, Math.max(...errors), tolerance, 'worst scaled error');
      x.dispose();
      store.dispose();
    });

    it('AdaGN: gradients with respect to the input and to scale-shift agree with finite differences', async () => {
      const store = new ParameterStore('adagn');
      const parameters = store.groupNorm('norm', 8, 2);
      randomizeParameters(store.parameters, 'adagn-parameters', 0.5);
      const x = randomTensor([2, 4, 4, 8], 'adagn-x');
      const scaleShift = randomTensor([2, 16], 'adagn-ss', 0.5);
      const f = (input: tf.Tensor): tf.Scalar =>
        projectToScalar(adaptiveGroupNorm(input as tf.Tensor4D, parameters, scaleShift as tf.Tensor2D), 'adagn-w');
      const g = (input: tf.Tensor): tf.Scalar => projectToScalar(adaptiveGroupNorm(x as tf.Tensor4D, parameters, input as tf.Tensor2D), 'adagn-w');
      const errors = [
        checkGradients('adaGN dx', await compareInputGradient(f, x, { seed: 'adagn-dx' }), tolerance),
        checkGradients('adaGN dscaleShift', await compareInputGradient(g, scaleShift, { seed: 'adagn-dss' }), tolerance),
      ];
      reportMeasurement('AdaGN gradient', backend.name, Math.max(...errors), tolerance, 'worst scaled error');
      tf.dispose([x, scaleShift]);
      store.dispose();
    });

    it('attention: qkvAttention (both qkv orders) and the attention block agree with finite differences', async () => {
      const errors: number[] = [];
      const qkv = randomTensor([2, 6, 3 * 8], 'qkv');
      for (const order of ['heads-first', 'qkv-first'] as QkvOrder[]) {
        const f = (input: tf.Tensor): tf.Scalar => projectToScalar(qkvAttention(input as tf.Tensor3D, 2, order), `qkv-w-${order}`);
        errors.push(checkGradients(`qkvAttention ${order}`, await compareInputGradient(f, qkv, { seed: `qkv-d-${order}` }), tolerance));
      }
      qkv.dispose();
      const store = new ParameterStore('attention');
      const block = createAttentionBlock(store, { channels: 8, heads: 2, groups: 4 });
      randomizeParameters(store.parameters, 'attention-parameters', 0.3);
      const x = randomTensor([2, 2, 2, 8], 'attention-x');
      const f = (input: tf.Tensor): tf.Scalar => projectToScalar(block.apply(input as tf.Tensor4D), 'attention-w');
      errors.push(checkGradients('attention block dx', await compareInputGradient(f, x, { seed: 'attention-dx' }), tolerance));
      errors.push(
        checkGradients(
          'attention block dqkv.weight',
          await compareVariableGradient(() => f(x), store.parameters.get('qkv.weight') as tf.Variable),
          tolerance,
        ),
      );
      reportMeasurement('attention gradient', backend.name, Math.max(...errors), tolerance, 'worst scaled error');
      x.dispose();
      store.dispose();
    });

    const blocks: [string, Partial<ResidualBlockOptions>][] = [
      ['AdaGN, 8 -> 4 channels (1x1 skip)', { outChannels: 4, groups: 2 }],
      ['GN + embedding, 8 -> 4 channels', { outChannels: 4, groups: 2, useScaleShiftNorm: false }],
      ['AdaGN, down (average pool)', { resample: 'down' }],
      ['AdaGN, up (nearest), rescaled', { resample: 'up', rescale: true }],
    ];
    it.each(blocks)('residual block (%s): input, embedding and weight gradients agree with finite differences', async (name, overrides) => {
      const options: ResidualBlockOptions = {
        inChannels: 8,
        outChannels: 8,
        embeddingChannels: 6,
        groups: 4,
        dropout: 0,
        useScaleShiftNorm: true,
        resample: 'none',
        rescale: false,
        ...overrides,
      };
      const store = new ParameterStore('residual');
      const block = createResidualBlock(store, options);
      randomizeParameters(store.parameters, `residual-parameters:${name}`, 0.3);
      const x = randomTensor([2, 4, 4, 8], 'residual-x');
      const embedding = randomTensor([2, 6], 'residual-embedding');
      const f = (input: tf.Tensor): tf.Scalar =>
        projectToScalar(block.apply(input as tf.Tensor4D, embedding as tf.Tensor2D, inference), 'residual-w');
      const g = (input: tf.Tensor): tf.Scalar => projectToScalar(block.apply(x as tf.Tensor4D, input as tf.Tensor2D, inference), 'residual-w');
      const errors = [
        checkGradients(`${name} dx`, await compareInputGradient(f, x, { seed: 'residual-dx' }), tolerance),
        checkGradients(`${name} demb`, await compareInputGradient(g, embedding, { seed: 'residual-demb' }), tolerance),
      ];
      const variables = ['in_layers.2.weight', 'emb_layers.1.weight', 'out_layers.3.weight', 'skip_connection.weight'];
      for (const variableName of variables.filter((entry) => store.parameters.has(entry))) {
        const variable = store.parameters.get(variableName) as tf.Variable;
        errors.push(checkGradients(`${name} d${variableName}`, await compareVariableGradient(() => f(x), variable, { directions: 1 }), tolerance));
      }
      reportMeasurement(`residual block ${name} gradient`, backend.name, Math.max(...errors), tolerance, 'worst scaled error');
      tf.dispose([x, embedding]);
      store.dispose();
    });
  },
  { batchedSubmits: true },
);
