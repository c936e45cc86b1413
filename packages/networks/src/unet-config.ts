import { DiffusionError, type PredictionKind, type VarianceKind } from '@tfjs-diffusion/core';
import type { QkvOrder } from './attention.js';
import {
  type RawConfig,
  asRawConfig,
  checkType,
  readBoolean,
  readChoice,
  readInteger,
  readIntegerList,
  readNumberList,
  readNumber,
  readOptionalInteger,
  readSeed,
  rejectUnknownKeys,
} from './config-validation.js';

export const PREDICTION_KINDS: readonly PredictionKind[] = ['epsilon', 'x0', 'v'];
export const VARIANCE_KINDS: readonly VarianceKind[] = ['fixed-small', 'fixed-large', 'learned-range'];

/** The options shared by the ADM U-Net and its encoder half (the noise-aware classifier). */
export type UNetBackboneConfig = {
  /** Height and width of the (square) images; divisible by 2^(levels - 1). */
  readonly imageSize: number;
  readonly inChannels: number;
  /** Base channel count; level l has trunc(modelChannels * channelMultipliers[l]) channels. */
  readonly modelChannels: number;
  /** One entry per resolution level, e.g. [1, 2, 2, 2]; fractions are allowed (ADM's 512 model starts with 0.5). */
  readonly channelMultipliers: readonly number[];
  /** Residual blocks per level on the way down (default 2). */
  readonly numResBlocks?: number;
  /** Resolutions in pixels (e.g. [16, 8]) whose residual blocks are followed by self-attention; the middle block always has one. Default []. */
  readonly attentionResolutions?: readonly number[];
  /** Attention heads (default 1); ignored when numHeadChannels is set. */
  readonly numHeads?: number;
  /** Channels per attention head (ADM num_head_channels); null (default) uses numHeads. */
  readonly numHeadChannels?: number | null;
  /** Layout of the attention blocks' qkv channels: 'heads-first' (ADM's default, QKVAttentionLegacy) or 'qkv-first' (use_new_attention_order). */
  readonly attentionOrder?: QkvOrder;
  /** The network embeds t * timestepScale (default 1); improved-diffusion's rescale_timesteps is 1000 / T. */
  readonly timestepScale?: number;
  /** Dropout rate in the residual blocks during training (default 0). */
  readonly dropout?: number;
  /** AdaGN scale-shift conditioning (default true, as ADM). */
  readonly useScaleShiftNorm?: boolean;
  /** BigGAN residual blocks for up/down-sampling (default false). */
  readonly resblockUpdown?: boolean;
  /** A learned conv in plain up/down-sampling layers (default true); off: nearest / average pool only. */
  readonly convResample?: boolean;
  /** Residual sums of the residual blocks divided by sqrt(2) (default false). */
  readonly resblockRescale?: boolean;
  /** GroupNorm groups (default 32); must divide every normalised channel count. */
  readonly groupNormGroups?: number;
  /** Seed of the initialisation (default 0). */
  readonly seed?: number | string;
};

/** The ADM U-Net's JSON config. */
export type UNetConfig = UNetBackboneConfig & {
  readonly type?: 'unet';
  /** Output channels of the prediction (default and only allowed value: inChannels); doubled for 'learned-range'. */
  readonly outChannels?: number;
  /** Residual blocks per level on the way up; must be numResBlocks + 1 (the default), one per skip connection. */
  readonly numResBlocksUp?: number;
  /** Class conditioning with numClasses labels plus the null label numClasses (default null: unconditional). */
  readonly numClasses?: number | null;
  /** Heads of the attention blocks on the way up (ADM num_heads_upsample); null (default) uses numHeads. Ignored with numHeadChannels. */
  readonly numHeadsUpsample?: number | null;
  /**
   * Super-resolution (ADM's SuperResModel): the side of the low-resolution image passed as
   * `condition.lowResolution` [batch, s, s, inChannels], bilinearly upsampled and concatenated to x. Default null.
   */
  readonly lowResolutionSize?: number | null;
  readonly prediction?: PredictionKind;
  readonly variance?: VarianceKind;
};

export type ResolvedUNetBackboneConfig = {
  readonly [Key in keyof UNetBackboneConfig]-?: Exclude<UNetBackboneConfig[Key], undefined>;
};

export type ResolvedUNetConfig = ResolvedUNetBackboneConfig & {
  readonly type: 'unet';
  readonly outChannels: number;
  readonly numResBlocksUp: number;
  readonly numClasses: number | null;
  readonly numHeadsUpsample: number | null;
  readonly lowResolutionSize: number | null;
  readonly prediction: PredictionKind;
  readonly variance: VarianceKind;
};

export const UNET_BACKBONE_KEYS = [
  'imageSize',
  'inChannels',
  'modelChannels',
  'channelMultipliers',
  'numResBlocks',
  'attentionResolutions',
  'numHeads',
  'numHeadChannels',
  'attentionOrder',
  'timestepScale',
  'dropout',
  'useScaleShiftNorm',
  'resblockUpdown',
  'convResample',
  'resblockRescale',
  'groupNormGroups',
  'seed',
] as const;

const UNET_KEYS = [
  'type',
  ...UNET_BACKBONE_KEYS,
  'outChannels',
  'numResBlocksUp',
  'numClasses',
  'numHeadsUpsample',
  'lowResolutionSize',
  'prediction',
  'variance',
];

/** The resolution (pixels) of each level: imageSize / 2^level. */
export function levelResolutions(imageSize: number, levels: number): number[] {
  return Array.from({ length: levels }, (_, level) => imageSize / 2 ** level);
}

/** The channels of level `level`: trunc(modelChannels * channelMultipliers[level]), as ADM's int(mult * model_channels). */
export function levelChannels(config: Pick<UNetBackboneConfig, 'modelChannels' | 'channelMultipliers'>, level: number): number {
  return Math.trunc((config.channelMultipliers[level] as number) * config.modelChannels);
}

/** Validates the backbone options of `config` (unknown keys are checked by the caller) and fills defaults. */
export function resolveUNetBackboneConfig(config: RawConfig, what: string): ResolvedUNetBackboneConfig {
  const imageSize = readInteger(config, 'imageSize', what, 1);
  const channelMultipliers = readNumberList(config, 'channelMultipliers', what, 0);
  if (channelMultipliers.length === 0) {
    throw new DiffusionError('invalid-argument', `${what}: channelMultipliers must have at least one level`);
  }
  const modelChannels = readInteger(config, 'modelChannels', what, 1);
  channelMultipliers.forEach((multiplier, level) => {
    if (Math.trunc(multiplier * modelChannels) < 1) {
      throw new DiffusionError(
        'invalid-argument',
        `${what}: channelMultipliers[${level}] = ${multiplier} gives no channels at modelChannels ${modelChannels}`,
      );
    }
  });
  const divisor = 2 ** (channelMultipliers.length - 1);
  if (imageSize % divisor !== 0) {
    throw new DiffusionError(
      'invalid-argument',
      `${what}: imageSize ${imageSize} must be divisible by ${divisor} (2^(levels - 1) for ${channelMultipliers.length} channelMultipliers)`,
    );
  }
  const attentionResolutions = readIntegerList(config, 'attentionResolutions', what, 1, []);
  const resolutions = levelResolutions(imageSize, channelMultipliers.length);
  for (const resolution of attentionResolutions) {
    if (!resolutions.includes(resolution)) {
      throw new DiffusionError(
        'invalid-argument',
        `${what}: attentionResolutions holds ${resolution}, which is not a resolution of this U-Net (${resolutions.join(', ')} pixels)`,
      );
    }
  }
  return {
    imageSize,
    inChannels: readInteger(config, 'inChannels', what, 1),
    modelChannels,
    channelMultipliers,
    numResBlocks: readInteger(config, 'numResBlocks', what, 1, 2),
    attentionResolutions,
    numHeads: readInteger(config, 'numHeads', what, 1, 1),
    numHeadChannels: readOptionalInteger(config, 'numHeadChannels', what, 1),
    attentionOrder: readChoice(config, 'attentionOrder', what, ['heads-first', 'qkv-first'] as const, 'heads-first'),
    timestepScale: readPositiveNumber(config, 'timestepScale', what, 1),
    dropout: readNumber(config, 'dropout', what, 0, 1, 0),
    useScaleShiftNorm: readBoolean(config, 'useScaleShiftNorm', what, true),
    resblockUpdown: readBoolean(config, 'resblockUpdown', what, false),
    convResample: readBoolean(config, 'convResample', what, true),
    resblockRescale: readBoolean(config, 'resblockRescale', what, false),
    groupNormGroups: readInteger(config, 'groupNormGroups', what, 1, 32),
    seed: readSeed(config, what),
  };
}

function readPositiveNumber(config: RawConfig, key: string, what: string, fallback: number): number {
  const value = config[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new DiffusionError('invalid-argument', `${what}: ${key} must be a finite number > 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates an ADM U-Net config (DiffusionError naming the option) and returns it with every default filled in. */
export function resolveUNetConfig(rawConfig: unknown): ResolvedUNetConfig {
  const what = 'unet config';
  const config = asRawConfig(rawConfig, what);
  rejectUnknownKeys(config, UNET_KEYS, what);
  checkType(config, 'unet', what);
  const backbone = resolveUNetBackboneConfig(config, what);
  const outChannels = readInteger(config, 'outChannels', what, 1, backbone.inChannels);
  if (outChannels !== backbone.inChannels) {
    throw new DiffusionError(
      'invalid-argument',
      `${what}: outChannels ${outChannels} must equal inChannels ${backbone.inChannels} (a prediction has the shape of x; learned-range doubles it by itself)`,
    );
  }
  const numResBlocksUp = readInteger(config, 'numResBlocksUp', what, 1, backbone.numResBlocks + 1);
  if (numResBlocksUp !== backbone.numResBlocks + 1) {
    throw new DiffusionError(
      'invalid-argument',
      `${what}: numResBlocksUp ${numResBlocksUp} must be numResBlocks + 1 = ${backbone.numResBlocks + 1}, one up block per skip connection`,
    );
  }
  return {
    type: 'unet',
    ...backbone,
    outChannels,
    numResBlocksUp,
    numClasses: readOptionalInteger(config, 'numClasses', what, 1),
    numHeadsUpsample: readOptionalInteger(config, 'numHeadsUpsample', what, 1),
    lowResolutionSize: readOptionalInteger(config, 'lowResolutionSize', what, 1),
    prediction: readChoice(config, 'prediction', what, PREDICTION_KINDS, 'epsilon'),
    variance: readChoice(config, 'variance', what, VARIANCE_KINDS, 'fixed-large'),
  };
}
