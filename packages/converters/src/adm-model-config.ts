import type { ModelFileMetadataInput } from '@tfjs-diffusion/checkpoints';
import { DiffusionError } from '@tfjs-diffusion/core';
import { type AdmFlags, type AdmModelKind, type AdmSource, parseAdmFlags, splitFlagString } from './adm-flags.js';

/** What a converted checkpoint is: its network config and the model-file metadata. */
export interface AdmModelPlan {
  readonly source: AdmSource;
  readonly kind: AdmModelKind;
  /** The tfjs-diffusion network config (`createNetwork`). */
  readonly network: Record<string, unknown>;
  readonly metadata: ModelFileMetadataInput;
  /** The flags after defaults, as the original scripts would see them. */
  readonly flags: AdmFlags;
  /** Sampling-only flags that were given (e.g. classifier_scale), kept as text. */
  readonly sampling: Readonly<Record<string, string>>;
}

/** The flag strings of a checkpoint, as in the READMEs. */
export interface AdmFlagStrings {
  readonly from: AdmSource;
  readonly modelFlags?: string;
  readonly diffusionFlags?: string;
  readonly classifierFlags?: string;
  /** An upsampler (SuperResModel); implied by --large_size / --small_size, needed for improved-diffusion's upsampler whose README gives neither. */
  readonly superResolution?: boolean;
  /** Classes of a class-conditional model or classifier (the scripts' NUM_CLASSES = 1000); the converter reads it from the weights. */
  readonly numClasses?: number;
}

const GUIDED_MULTIPLIERS: Readonly<Record<number, readonly number[]>> = {
  512: [0.5, 1, 1, 2, 2, 4, 4],
  256: [1, 1, 2, 2, 4, 4],
  128: [1, 1, 2, 3, 4],
  64: [1, 2, 3, 4],
};
const GUIDED_SUPER_RESOLUTION_MULTIPLIERS: Readonly<Record<number, readonly number[]>> = {
  512: [1, 1, 2, 2, 4, 4],
  256: [1, 1, 2, 2, 4, 4],
  64: [1, 2, 3, 4],
};
const IMPROVED_MULTIPLIERS: Readonly<Record<number, readonly number[]>> = {
  256: [1, 1, 2, 2, 4, 4],
  64: [1, 2, 3, 4],
  32: [1, 2, 2, 2],
};
const IMPROVED_SUPER_RESOLUTION_MULTIPLIERS: Readonly<Record<number, readonly number[]>> = {
  256: [1, 1, 2, 2, 4, 4],
  64: [1, 2, 3, 4],
};
const NUM_CLASSES = 1000;

function integerFlag(flags: AdmFlags, name: string): number {
  return flags[name] as number;
}

function multipliersFor(table: Readonly<Record<number, readonly number[]>>, size: number, flag: string): number[] {
  const multipliers = table[size];
  if (!multipliers) {
    throw new DiffusionError(
      'invalid-argument',
      `--${flag} ${size} is not supported by the original code (it knows ${Object.keys(table).join(', ')}${flag === 'image_size' ? '; guided-diffusion also takes --channel_mult' : ''})`,
    );
  }
  return [...multipliers];
}

function parseIntegerList(text: string, flag: string): number[] {
  const values = text.split(',').map((part) => Number(part.trim()));
  if (text.trim() === '' || values.some((value) => !Number.isInteger(value) || value < 1)) {
    throw new DiffusionError('invalid-argument', `--${flag} must be a comma-separated list of positive integers, got ${JSON.stringify(text)}`);
  }
  return values;
}

/**
 * ADM's attention_resolutions are pixel sizes turned into downsampling factors ds = size // r;
 * a block gets attention when its level's ds is in that set, so sizes that are not a level are
 * ignored (as the original code does). Returns the pixel sizes of the levels that get attention.
 */
function attentionLevels(size: number, levels: number, text: string, flag: string): number[] {
  const factors = new Set(parseIntegerList(text, flag).map((resolution) => Math.floor(size / resolution)));
  const resolutions: number[] = [];
  for (let level = 0; level < levels; level += 1) if (factors.has(2 ** level)) resolutions.push(size / 2 ** level);
  return resolutions;
}

function scheduleOf(flags: AdmFlags): ModelFileMetadataInput['schedule'] {
  const kind = flags.noise_schedule;
  if (kind !== 'linear' && kind !== 'cosine') {
    throw new DiffusionError(
      'invalid-argument',
      `--noise_schedule must be linear or cosine (the original code knows no other), got ${JSON.stringify(kind)}`,
    );
  }
  const respacing = String(flags.timestep_respacing);
  return {
    kind,
    timesteps: integerFlag(flags, 'diffusion_steps'),
    ...(respacing === '' ? {} : { respacing }),
  };
}

/** Decides denoiser, super-resolution or classifier from the flag strings. */
export function admModelKind(strings: AdmFlagStrings): AdmModelKind {
  if (strings.classifierFlags !== undefined && strings.classifierFlags.trim() !== '') {
    if (strings.modelFlags !== undefined && strings.modelFlags.trim() !== '') {
      throw new DiffusionError(
        'invalid-argument',
        'give --model-flags for a diffusion model or --classifier-flags for a classifier, not both (convert them one at a time)',
      );
    }
    return 'classifier';
  }
  const names = splitFlagString(`${strings.modelFlags ?? ''} ${strings.diffusionFlags ?? ''}`).map((token) => token.replace(/^--/, '').split('=')[0]);
  if (strings.superResolution === true || names.includes('large_size') || names.includes('small_size')) return 'super-resolution';
  return 'denoiser';
}

/**
 * Maps the flags of a published ADM checkpoint (guided-diffusion or improved-diffusion; their
 * script_util's create_model / sr_create_model / create_classifier and create_gaussian_diffusion)
 * to a tfjs-diffusion network config and model-file metadata: channel multipliers by image size,
 * attention resolutions as downsampling factors, heads (num_heads, num_head_channels,
 * num_heads_upsample, use_new_attention_order), learn_sigma (learned-range variance, doubled
 * output), sigma_small, predict_xstart, rescale_timesteps (the network embeds t * 1000 / T), the
 * schedule and its respacing. Unknown flags are errors naming the flag.
 */
export function planAdmModel(strings: AdmFlagStrings): AdmModelPlan {
  const source = strings.from;
  if (source !== 'guided-diffusion' && source !== 'improved-diffusion') {
    throw new DiffusionError('invalid-argument', `--from must be guided-diffusion or improved-diffusion, got ${JSON.stringify(source)}`);
  }
  const kind = admModelKind(strings);
  const flagStrings =
    kind === 'classifier' ? [strings.classifierFlags ?? '', strings.diffusionFlags ?? ''] : [strings.modelFlags ?? '', strings.diffusionFlags ?? ''];
  const { flags, sampling } = parseAdmFlags(source, kind, flagStrings);
  const numClasses = strings.numClasses ?? NUM_CLASSES;
  const steps = integerFlag(flags, 'diffusion_steps');
  const timestepScale = flags.rescale_timesteps === true ? 1000 / steps : 1;
  const schedule = scheduleOf(flags);
  const groupNormGroups = integerFlag(flags, 'group_norm_groups');

  if (kind === 'classifier') {
    const size = integerFlag(flags, 'image_size');
    const channelMultipliers =
      flags.classifier_channel_mult === ''
        ? multipliersFor(GUIDED_MULTIPLIERS, size, 'image_size')
        : parseIntegerList(String(flags.classifier_channel_mult), 'classifier_channel_mult');
    const network = {
      type: 'classifier',
      imageSize: size,
      inChannels: 3,
      modelChannels: integerFlag(flags, 'classifier_width'),
      channelMultipliers,
      numResBlocks: integerFlag(flags, 'classifier_depth'),
      attentionResolutions: attentionLevels(
        size,
        channelMultipliers.length,
        String(flags.classifier_attention_resolutions),
        'classifier_attention_resolutions',
      ),
      numHeadChannels: integerFlag(flags, 'classifier_num_head_channels'),
      useScaleShiftNorm: flags.classifier_use_scale_shift_norm === true,
      resblockUpdown: flags.classifier_resblock_updown === true,
      groupNormGroups,
      timestepScale,
      numClasses,
      pool: flags.classifier_pool,
    };
    return {
      source,
      kind,
      network,
      flags,
      sampling,
      metadata: {
        network,
        schedule,
        prediction: null,
        variance: null,
        conditioning: { numClasses, nullClass: null },
        data: { shape: [size, size, 3], range: [-1, 1] },
        weights: 'ema',
      } as unknown as ModelFileMetadataInput,
    };
  }

  const superResolution = kind === 'super-resolution';
  const size = integerFlag(flags, superResolution ? 'large_size' : 'image_size');
  let channelMultipliers: number[];
  if (superResolution) {
    channelMultipliers = multipliersFor(
      source === 'guided-diffusion' ? GUIDED_SUPER_RESOLUTION_MULTIPLIERS : IMPROVED_SUPER_RESOLUTION_MULTIPLIERS,
      size,
      'large_size',
    );
  } else if (source === 'guided-diffusion' && flags.channel_mult !== '') {
    channelMultipliers = parseIntegerList(String(flags.channel_mult), 'channel_mult');
  } else {
    channelMultipliers = multipliersFor(source === 'guided-diffusion' ? GUIDED_MULTIPLIERS : IMPROVED_MULTIPLIERS, size, 'image_size');
  }
  const learnSigma = flags.learn_sigma === true;
  const variance = learnSigma ? 'learned-range' : flags.sigma_small === true ? 'fixed-small' : 'fixed-large';
  const prediction = flags.predict_xstart === true ? 'x0' : 'epsilon';
  const classConditional = flags.class_cond === true;
  const numHeadChannels = source === 'guided-diffusion' ? integerFlag(flags, 'num_head_channels') : -1;
  const numHeadsUpsample = integerFlag(flags, 'num_heads_upsample');
  const network: Record<string, unknown> = {
    type: 'unet',
    imageSize: size,
    inChannels: 3,
    modelChannels: integerFlag(flags, 'num_channels'),
    channelMultipliers,
    numResBlocks: integerFlag(flags, 'num_res_blocks'),
    attentionResolutions: attentionLevels(size, channelMultipliers.length, String(flags.attention_resolutions), 'attention_resolutions'),
    numHeads: integerFlag(flags, 'num_heads'),
    numHeadChannels: numHeadChannels === -1 ? null : numHeadChannels,
    numHeadsUpsample: numHeadsUpsample === -1 ? null : numHeadsUpsample,
    attentionOrder: flags.use_new_attention_order === true ? 'qkv-first' : 'heads-first',
    dropout: flags.dropout,
    useScaleShiftNorm: flags.use_scale_shift_norm === true,
    resblockUpdown: flags.resblock_updown === true,
    groupNormGroups,
    timestepScale,
    numClasses: classConditional ? numClasses : null,
    lowResolutionSize: superResolution ? integerFlag(flags, 'small_size') : null,
    prediction,
    variance,
  };
  return {
    source,
    kind,
    network,
    flags,
    sampling,
    metadata: {
      network: network as ModelFileMetadataInput['network'],
      schedule,
      prediction,
      variance,
      // the published models were trained without a null label: the converter adds an all-zero
      // label_emb row so the network's shape is uniform, but offers no classifier-free guidance
      conditioning: classConditional ? { numClasses, nullClass: null } : null,
      data: { shape: [size, size, 3], range: [-1, 1] },
      weights: 'ema',
    },
  };
}
