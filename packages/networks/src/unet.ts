import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { createNoiseSource, type ModelOutput, type TrainableDiffusionModel } from '@tfjs-diffusion/core';
import { createForwardContext } from './forward-context.js';
import { applyGroupNorm } from './group-norm.js';
import { applyConv2d, silu } from './layer-ops.js';
import { checkClassLabels, checkModelInput } from './model-input-validation.js';
import { buildWithStore } from './parameter-store.js';
import { createUpsample } from './resample.js';
import { type ResolvedUNetConfig, type UNetConfig, resolveUNetConfig } from './unet-config.js';
import {
  type TimestepLayer,
  attentionFactory,
  createTimeEmbedding,
  createUNetEncoder,
  plainLayer,
  residualBlockFactory,
  sequence,
} from './unet-encoder.js';

/** A trainable ADM U-Net whose `config` is the fully resolved JSON config. */
export interface UNetModel extends TrainableDiffusionModel {
  readonly config: ResolvedUNetConfig;
}

/**
 * The ADM U-Net (Dhariwal & Nichol 2021, "Diffusion Models Beat GANs"; after DDPM's PixelCNN++
 * U-Net and Improved DDPM): NHWC images [batch, S, S, inChannels] -> the prediction of the same
 * shape (plus varianceValues, the raw second half of the output, for 'learned-range').
 * Parameter names are those of guided-diffusion's UNetModel state_dict.
 */
export function createUNet(config: UNetConfig | Readonly<Record<string, unknown>>): UNetModel {
  const resolved = resolveUNetConfig(config);
  const learnedVariance = resolved.variance === 'learned-range';
  const finalChannels = learnedVariance ? 2 * resolved.outChannels : resolved.outChannels;
  const dropoutNoise = createNoiseSource(`${resolved.seed}:dropout`);

  const { built, store } = buildWithStore(resolved.seed, (parameterStore) => {
    const embedTime = createTimeEmbedding(parameterStore, resolved.modelChannels);
    const labelEmbedding =
      resolved.numClasses === null ? null : parameterStore.embedding('label_emb', resolved.numClasses + 1, 4 * resolved.modelChannels);
    const encoder = createUNetEncoder(parameterStore, resolved);
    const residualBlock = residualBlockFactory(resolved);
    const attention = attentionFactory(resolved);

    // output_blocks: numResBlocks + 1 residual blocks per level, each eating one skip connection
    const skipChannels = [...encoder.skipChannels];
    const outputBlocks: TimestepLayer[] = [];
    let channels = encoder.channels;
    let resolution = encoder.bottomResolution;
    for (let level = resolved.channelMultipliers.length - 1; level >= 0; level -= 1) {
      const outChannels = (resolved.channelMultipliers[level] as number) * resolved.modelChannels;
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
        // 2. down: keep every input block's output for the skip connections
        let h = tf.cast(input.x, 'float32') as tf.Tensor4D;
        const skips: tf.Tensor4D[] = [];
        for (const block of built.encoder.inputBlocks) {
          h = block.apply(h, embedding, context);
          skips.push(h);
        }
        h = built.encoder.middleBlock.apply(h, embedding, context);
        // 3. up: concatenate [h, skip] on channels (ADM's th.cat([h, hs.pop()], dim=1))
        for (const block of built.outputBlocks) h = block.apply(tf.concat([h, skips.pop() as tf.Tensor4D], 3), embedding, context);
        // 4. out: GN, SiLU, zero-initialised conv
        const output = applyConv2d(silu(applyGroupNorm(h, built.outNorm)), built.outConv);
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
}
