import { DiffusionError } from '@tfjs-diffusion/core';

/** Which code base a checkpoint comes from. */
export type AdmSource = 'guided-diffusion' | 'improved-diffusion';
export const ADM_SOURCES: readonly AdmSource[] = ['guided-diffusion', 'improved-diffusion'];

/** What the checkpoint is: a denoiser (UNetModel), an upsampler (SuperResModel) or a noise-aware classifier (EncoderUNetModel). */
export type AdmModelKind = 'denoiser' | 'super-resolution' | 'classifier';

type FlagValue = string | number | boolean;
export type AdmFlags = Readonly<Record<string, FlagValue>>;

const DIFFUSION_DEFAULTS_GUIDED = {
  learn_sigma: false,
  diffusion_steps: 1000,
  noise_schedule: 'linear',
  timestep_respacing: '',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: false,
  rescale_learned_sigmas: false,
};

/** guided-diffusion's script_util defaults (model_and_diffusion_defaults, classifier_defaults, sr_...). */
const GUIDED_MODEL_DEFAULTS = {
  image_size: 64,
  num_channels: 128,
  num_res_blocks: 2,
  num_heads: 4,
  num_heads_upsample: -1,
  num_head_channels: -1,
  attention_resolutions: '16,8',
  channel_mult: '',
  dropout: 0.0,
  class_cond: false,
  use_checkpoint: false,
  use_scale_shift_norm: true,
  resblock_updown: false,
  use_fp16: false,
  use_new_attention_order: false,
  ...DIFFUSION_DEFAULTS_GUIDED,
};

const GUIDED_CLASSIFIER_DEFAULTS = {
  image_size: 64,
  classifier_use_fp16: false,
  classifier_width: 128,
  classifier_depth: 2,
  classifier_attention_resolutions: '32,16,8',
  classifier_use_scale_shift_norm: true,
  classifier_resblock_updown: true,
  classifier_pool: 'attention',
  ...DIFFUSION_DEFAULTS_GUIDED,
};

/** improved-diffusion's script_util defaults (it has no channel_mult, num_head_channels, resblock_updown or new attention order). */
const IMPROVED_MODEL_DEFAULTS = {
  image_size: 64,
  num_channels: 128,
  num_res_blocks: 2,
  num_heads: 4,
  num_heads_upsample: -1,
  attention_resolutions: '16,8',
  dropout: 0.0,
  learn_sigma: false,
  sigma_small: false,
  class_cond: false,
  diffusion_steps: 1000,
  noise_schedule: 'linear',
  timestep_respacing: '',
  use_kl: false,
  predict_xstart: false,
  rescale_timesteps: true,
  rescale_learned_sigmas: true,
  use_checkpoint: false,
  use_scale_shift_norm: true,
};

/** sr_model_and_diffusion_defaults keeps only the arguments of sr_create_model_and_diffusion. */
const SUPER_RESOLUTION_DROPPED: Readonly<Record<AdmSource, readonly string[]>> = {
  'guided-diffusion': ['image_size', 'channel_mult', 'use_new_attention_order'],
  'improved-diffusion': ['image_size'],
};

/**
 * Flags the converter adds to the published ones (never in their READMEs): --group_norm_groups
 * (their normalization() is GroupNorm(32, ch); small test models use fewer groups), and for
 * classifiers --classifier_channel_mult and --classifier_num_head_channels (create_classifier
 * fixes them to the table for 64..512 pixels and 64).
 */
const EXTENSION_DEFAULTS = { group_norm_groups: 32 };
const CLASSIFIER_EXTENSION_DEFAULTS = { classifier_channel_mult: '', classifier_num_head_channels: 64 };

/**
 * Flags of the sampling and training scripts (SAMPLE_FLAGS, TRAIN_FLAGS and script paths of the
 * READMEs) that may appear beside the model flags; they do not change the network, so the
 * converter accepts and records them (classifier_scale becomes the file's suggested guidance scale).
 */
const SCRIPT_FLAGS = new Set([
  'classifier_scale',
  'use_ddim',
  'clip_denoised',
  'batch_size',
  'num_samples',
  'model_path',
  'classifier_path',
  'base_samples',
  'data_dir',
  'val_data_dir',
  'lr',
  'weight_decay',
  'lr_anneal_steps',
  'anneal_lr',
  'iterations',
  'microbatch',
  'ema_rate',
  'log_interval',
  'save_interval',
  'eval_interval',
  'resume_checkpoint',
  'fp16_scale_growth',
  'schedule_sampler',
  'noised',
]);

/** The defaults a flag set starts from (argparse defaults of the scripts that load such a checkpoint). */
export function admFlagDefaults(source: AdmSource, kind: AdmModelKind): Record<string, FlagValue> {
  if (kind === 'classifier') {
    if (source !== 'guided-diffusion') {
      throw new DiffusionError(
        'invalid-argument',
        'improved-diffusion has no noise-aware classifier; use --from guided-diffusion with --classifier-flags',
      );
    }
    return { ...GUIDED_CLASSIFIER_DEFAULTS, ...EXTENSION_DEFAULTS, ...CLASSIFIER_EXTENSION_DEFAULTS };
  }
  const base: Record<string, FlagValue> = {
    ...(source === 'guided-diffusion' ? GUIDED_MODEL_DEFAULTS : IMPROVED_MODEL_DEFAULTS),
    ...EXTENSION_DEFAULTS,
  };
  if (kind === 'super-resolution') {
    for (const key of SUPER_RESOLUTION_DROPPED[source]) delete base[key];
    base.large_size = 256;
    base.small_size = 64;
  }
  return base;
}

/** Splits a flag string like the shell would for `--key value` pairs (whitespace; no quoting needed by any published flag). */
export function splitFlagString(text: string): string[] {
  return text.split(/\s+/).filter((token) => token.length > 0);
}

/** argparse's str2bool. */
function parseBoolean(flag: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (['yes', 'true', 't', 'y', '1'].includes(lower)) return true;
  if (['no', 'false', 'f', 'n', '0'].includes(lower)) return false;
  throw new DiffusionError('invalid-argument', `--${flag}: boolean value expected, got ${JSON.stringify(value)}`);
}

/**
 * Reads MODEL_FLAGS / DIFFUSION_FLAGS / CLASSIFIER_FLAGS strings exactly as the original scripts'
 * argparse would (`--key value` or `--key=value`, later flags win, booleans by str2bool, ints and
 * floats by the default's type) on top of `admFlagDefaults`. A flag the scripts do not define is
 * an error naming it; flags of the sampling and training scripts are returned apart.
 */
export function parseAdmFlags(
  source: AdmSource,
  kind: AdmModelKind,
  flagStrings: readonly string[],
): { flags: AdmFlags; sampling: Record<string, string>; given: ReadonlySet<string> } {
  const flags = admFlagDefaults(source, kind);
  const sampling: Record<string, string> = {};
  const given = new Set<string>();
  const tokens = flagStrings.flatMap(splitFlagString);
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] as string;
    if (!token.startsWith('--')) throw new DiffusionError('invalid-argument', `flags: expected --name value, got ${JSON.stringify(token)}`);
    const equals = token.indexOf('=');
    const name = equals < 0 ? token.slice(2) : token.slice(2, equals);
    let value: string;
    if (equals >= 0) value = token.slice(equals + 1);
    else {
      const next = tokens[index + 1];
      if (next === undefined || next.startsWith('--')) throw new DiffusionError('invalid-argument', `flag --${name} needs a value`);
      value = next;
      index += 1;
    }
    if (SCRIPT_FLAGS.has(name)) {
      sampling[name] = value;
      continue;
    }
    if (!(name in flags)) {
      const what = kind === 'classifier' ? 'classifier' : kind === 'super-resolution' ? 'super-resolution model' : 'model';
      throw new DiffusionError('unknown-option', `unknown ${source} ${what} flag --${name}`);
    }
    const fallback = flags[name];
    if (typeof fallback === 'boolean') flags[name] = parseBoolean(name, value);
    else if (typeof fallback === 'number') {
      const number = Number(value);
      const integer = Number.isInteger(fallback) && name !== 'dropout';
      if (value.trim() === '' || !Number.isFinite(number) || (integer && !Number.isInteger(number))) {
        throw new DiffusionError('invalid-argument', `--${name}: ${integer ? 'an integer' : 'a number'} expected, got ${JSON.stringify(value)}`);
      }
      flags[name] = number;
    } else flags[name] = value;
    given.add(name);
  }
  return { flags, sampling, given };
}
