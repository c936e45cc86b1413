import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError, createNoiseSource, type ModelOutput, type TrainableDiffusionModel } from '@tfjs-diffusion/core';
import { createForwardContext } from './forward-context.js';
import { applyGroupNorm } from './group-norm.js';
import { applyConv2d, silu } from './layer-ops.js';
import { checkClassLabels, checkModelInput } from './model-input-validation.js';
import { type ParameterSource, type ShapeProbe, buildWithStore } from './parameter-store.js';
import { createUpsample } from './resample.js';
import { type ResolvedUNetConfig, type UNetConfig, levelChannels, resolveUNetConfig } from './unet-config.js';
import {
  type TimestepLayer,
  attentionFactory,
  createTimeEmbedding,
  createUNetEncoder,
  plainLayer,
  residualBlockFactory,
  sequence,
} from './unet-encoder.js';

/** The condition of a super-resolution U-Net: class labels (when class-conditional) and the low-resolution image. */
export interface SuperResolutionCondition {
  readonly classLabels?: tf.Tensor1D;
  /** [batch, s, s, inChannels] in the data range, s = config.lowResolutionSize. */
  readonly lowResolution?: tf.Tensor4D;
}

/** Options of the network constructors. */
export interface NetworkBuildOptions {
  /** Where the weights come from instead of a random initialisation (see `ParameterSource`). */
  readonly parameterSource?: ParameterSource;
  /** Internal to `parameterShapes`: record shapes, allocate nothing (the network returned is unusable). */
  readonly shapeProbe?: ShapeProbe;
}

/** A trainable ADM U-Net whose `config` is the fully resolved JSON config. */
export interface UNetModel extends TrainableDiffusionModel {
  readonly config: ResolvedUNetConfig;
}

/**
 * The ADM U-Net (Dhariwal & Nichol 2021, "Diffusion Models Beat GANs"; after DDPM's PixelCNN++
 * U-Net and Improved DDPM): NHWC images [batch, S, S, inChannels] -> the prediction of the same
 * shape (plus varianceValues, the raw second half of the output, for 'learned-range').
 * Parameter names are those of guided-diffusion's UNetModel state_dict. With `lowResolutionSize`
 * it is ADM's SuperResModel: condition.lowResolution is upsampled bilinearly (half-pixel centres, as
 * PyTorch's F.interpolate(mode='bilinear')) to the image size and concatenated to x on channels.
 */
export function createUNet(config: UNetConfig | Readonly<Record<string, unknown>>, options: NetworkBuildOptions = {}): UNetModel {
  const resolved = resolveUNetConfig(config);
  const learnedVariance = resolved.variance === 'learned-range';
  const finalChannels = learnedVariance ? 2 * resolved.outChannels : resolved.outChannels;
  const dropoutNoise = createNoiseSource(`${resolved.seed}:dropout`);

  const superResolution = resolved.lowResolutionSize !== null;
  const { built, store } = buildWithStore(resolved.seed, options.shapeProbe ?? options.parameterSource, (parameterStore) => {
    const embedTime = createTimeEmbedding(parameterStore, resolved.modelChannels, resolved.timestepScale);
    const labelEmbedding =
      resolved.numClasses === null ? null : parameterStore.embedding('label_emb', resolved.numClasses + 1, 4 * resolved.modelChannels);
    const encoder = createUNetEncoder(parameterStore, resolved, superResolution ? 2 * resolved.inChannels : resolved.inChannels);
    const residualBlock = residualBlockFactory(resolved);
    const attention = attentionFactory(resolved, resolved.numHeadsUpsample ?? resolved.numHeads);

    // output_blocks: numResBlocks + 1 residual blocks per level, each eating one skip connection
    const skipChannels = [...encoder.skipChannels];
    const outputBlocks: TimestepLayer[] = [];
    let channels = encoder.channels;
    let resolution = encoder.bottomResolution;
    for (let level = resolved.channelMultipliers.length - 1; level >= 0; level -= 1) {
      const outChannels = levelChannels(resolved, level);
      for (let block = 0; block < resolved.numResBlocksUp; block += 1) {
        const blockStore = parameterStore.scope(`output_blocks.${outputBlocks.length}`);
        const skip = skipChannels.pop() as number;
        const layers: TimestepLayer[] = [residualBlock(blockStore.scope(0), channels + skip, outChannels)];
        channels = outChannels;
        if (resolved.attentionResolutions.includes(resolution)) layers.push(attention(blockStore.scope(layers.length), channels));
        if (level > 0 && block === resolved.numResBlocksUp - 1) {
          const upStore = blockStore.scope(layers.length);
          layers.push(
            resolved.resblockUpdown
              ? residualBlock(upStore, channels, channels, 'up')
              : plainLayer(createUpsample(upStore, channels, resolved.convResample)),
          );
          resolution *= 2;
        }
        outputBlocks.push(sequence(layers));
      }
    }
    const outNorm = parameterStore.groupNorm('out.0', channels, resolved.groupNormGroups);
    const outConv = parameterStore.conv2d('out.2', channels, finalChannels, 3, true);
    return { embedTime, labelEmbedding, encoder, outputBlocks, outNorm, outConv };
  });

  const dataShape = [resolved.imageSize, resolved.imageSize, resolved.inChannels];
  return {
    prediction: resolved.prediction,
    variance: resolved.variance,
    conditioning: resolved.numClasses === null ? null : { kind: 'class', numClasses: resolved.numClasses, nullClass: resolved.numClasses },
    parameters: store.parameters,
    config: resolved,
    predict(input): ModelOutput {
      const batch = checkModelInput(input.x, input.timesteps, dataShape, 'unet');
      return tf.tidy(() => {
        const labels = checkClassLabels(input.condition, resolved.numClasses, batch, 'unet');
        const context = createForwardContext(input.training === true, dropoutNoise);
        // 1. emb = time_embed(sinusoidal(t)) [+ label_emb(y)]
        let embedding = built.embedTime(input.timesteps);
        if (built.labelEmbedding && labels) embedding = tf.add(embedding, tf.gather(built.labelEmbedding, labels));
        // every residual block's emb_layers begin with SiLU: applied once here, not once per block
        const activatedEmbedding = silu(embedding);
        // 2. down: keep every input block's output for the skip connections
        let h = tf.cast(input.x, 'float32') as tf.Tensor4D;
        if (superResolution) h = tf.concat([h, upsampledLowResolution(input.condition, h.shape[0])], 3);
        const skips: tf.Tensor4D[] = [];
        // each block in its own tidy: its intermediates are freed when it ends, so one evaluation
        // holds the skips and one block's activations, not every activation of the network
        for (const block of built.encoder.inputBlocks) {
          const input = h;
          h = tf.tidy(() => block.apply(input, activatedEmbedding, context));
          skips.push(h);
        }
        const bottom = h;
        h = tf.tidy(() => built.encoder.middleBlock.apply(bottom, activatedEmbedding, context));
        // 3. up: concatenate [h, skip] on channels (ADM's th.cat([h, hs.pop()], dim=1))
        for (const block of built.outputBlocks) {
          const input = h;
          const skip = skips.pop() as tf.Tensor4D;
          h = tf.tidy(() => block.apply(tf.concat([input, skip], 3), activatedEmbedding, context));
          // free the consumed activations now (tf.tidy's end would be too late for large images)
          if (input !== skip) tf.dispose([input, skip]);
        }
        // 4. out: GN, SiLU, zero-initialised conv
        const output = applyConv2d(applyGroupNorm(h, built.outNorm, 'silu'), built.outConv);
        if (!learnedVariance) return { prediction: output };
        // 5. learned range: first half the prediction, second half v (raw, as improved-diffusion)
        const [prediction, varianceValues] = tf.split(output, 2, 3);
        return { prediction: prediction as tf.Tensor, varianceValues: varianceValues as tf.Tensor };
      });
    },
    dispose() {
      store.dispose();
    },
  };

  function upsampledLowResolution(condition: unknown, batch: number): tf.Tensor4D {
    const lowResolution = (condition as SuperResolutionCondition | undefined)?.lowResolution;
    const size = resolved.lowResolutionSize as number;
    const expected = [batch, size, size, resolved.inChannels];
    if (!lowResolution || lowResolution.rank !== 4 || !lowResolution.shape.every((length, axis) => length === expected[axis])) {
      throw new DiffusionError(
        'invalid-shape',
        `unet: super-resolution needs condition.lowResolution [${expected.join(', ')}], got ${lowResolution ? `[${lowResolution.shape.join(', ')}]` : 'none'}`,
      );
    }
    // F.interpolate(low_res, (H, W), mode='bilinear', align_corners=False): half-pixel centres
    return tf.image.resizeBilinear(tf.cast(lowResolution, 'float32') as tf.Tensor4D, [resolved.imageSize, resolved.imageSize], false, true);
  }
}
