import { DiffusionError } from '@tfjs-diffusion/core';
import type { AdmModelKind, AdmSource } from './adm-flags.js';
import type { AdmFlagStrings } from './adm-model-config.js';

/** A published checkpoint: where to download it and the README flags that describe it. */
export interface PublishedModel {
  readonly from: AdmSource;
  readonly kind: AdmModelKind;
  /** MODEL_FLAGS (or CLASSIFIER_FLAGS for a classifier) exactly as the README gives them. */
  readonly flags: string;
  /** DIFFUSION_FLAGS of the README (guided-diffusion puts them in MODEL_FLAGS). */
  readonly diffusionFlags: string;
  readonly url: string;
  /** What it is, in the README's words. */
  readonly description: string;
}

const GUIDED = 'https://openaipublic.blob.core.windows.net/diffusion/jul-2021';
const IMPROVED = 'https://openaipublic.blob.core.windows.net/diffusion/march-2021';

const G64 =
  '--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 64 --learn_sigma True --noise_schedule cosine --num_channels 192 --num_head_channels 64 --num_res_blocks 3 --resblock_updown True --use_new_attention_order True --use_fp16 True --use_scale_shift_norm True';
const G128 =
  '--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 128 --learn_sigma True --noise_schedule linear --num_channels 256 --num_heads 4 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True';
const G256 =
  '--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True';
const G512 =
  '--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 512 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 False --use_scale_shift_norm True';
const GLSUN =
  '--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 --dropout 0.1 --image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True';
const IMPROVED_COSINE = '--diffusion_steps 4000 --noise_schedule cosine';
const IMPROVED_LSUN =
  '--image_size 256 --num_channels 128 --num_res_blocks 2 --num_heads 1 --learn_sigma True --use_scale_shift_norm False --attention_resolutions 16';
const IMPROVED_LSUN_DIFFUSION = '--diffusion_steps 1000 --noise_schedule linear --rescale_learned_sigmas False --rescale_timesteps False';

function guided(kind: AdmModelKind, flags: string, file: string, description: string): PublishedModel {
  return { from: 'guided-diffusion', kind, flags, diffusionFlags: '', url: `${GUIDED}/${file}`, description };
}
function improved(kind: AdmModelKind, flags: string, diffusionFlags: string, file: string, description: string): PublishedModel {
  return { from: 'improved-diffusion', kind, flags, diffusionFlags, url: `${IMPROVED}/${file}`, description };
}

/**
 * Every checkpoint published by openai/guided-diffusion (Dhariwal & Nichol 2021) and
 * openai/improved-diffusion (Nichol & Dhariwal 2021), with the flags of their READMEs. The
 * classifiers' flags are those their sampling commands pass (classifier defaults otherwise).
 */
export const PUBLISHED_MODELS = {
  'guided-64x64': guided('denoiser', G64, '64x64_diffusion.pt', 'ImageNet 64x64, class-conditional'),
  'guided-64x64-classifier': guided(
    'classifier',
    '--image_size 64 --classifier_depth 4',
    '64x64_classifier.pt',
    'ImageNet 64x64 noise-aware classifier',
  ),
  'guided-128x128': guided('denoiser', G128, '128x128_diffusion.pt', 'ImageNet 128x128, class-conditional'),
  'guided-128x128-classifier': guided('classifier', '--image_size 128', '128x128_classifier.pt', 'ImageNet 128x128 noise-aware classifier'),
  'guided-256x256': guided('denoiser', G256, '256x256_diffusion.pt', 'ImageNet 256x256, class-conditional'),
  'guided-256x256-uncond': guided(
    'denoiser',
    G256.replace('--class_cond True', '--class_cond False'),
    '256x256_diffusion_uncond.pt',
    'ImageNet 256x256, unconditional',
  ),
  'guided-256x256-classifier': guided('classifier', '--image_size 256', '256x256_classifier.pt', 'ImageNet 256x256 noise-aware classifier'),
  'guided-512x512': guided('denoiser', G512, '512x512_diffusion.pt', 'ImageNet 512x512, class-conditional'),
  'guided-512x512-classifier': guided('classifier', '--image_size 512', '512x512_classifier.pt', 'ImageNet 512x512 noise-aware classifier'),
  'guided-64-256-upsampler': guided(
    'super-resolution',
    '--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --large_size 256  --small_size 64 --learn_sigma True --noise_schedule linear --num_channels 192 --num_heads 4 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True',
    '64_256_upsampler.pt',
    'ImageNet 64 -> 256 upsampler, class-conditional',
  ),
  'guided-128-512-upsampler': guided(
    'super-resolution',
    '--attention_resolutions 32,16 --class_cond True --diffusion_steps 1000 --large_size 512 --small_size 128 --learn_sigma True --noise_schedule linear --num_channels 192 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True',
    '128_512_upsampler.pt',
    'ImageNet 128 -> 512 upsampler, class-conditional',
  ),
  'guided-lsun-bedroom': guided('denoiser', GLSUN, 'lsun_bedroom.pt', 'LSUN bedroom 256x256'),
  'guided-lsun-cat': guided('denoiser', GLSUN, 'lsun_cat.pt', 'LSUN cat 256x256'),
  'guided-lsun-horse': guided('denoiser', GLSUN, 'lsun_horse.pt', 'LSUN horse 256x256'),
  'guided-lsun-horse-nodropout': guided(
    'denoiser',
    GLSUN.replace('--dropout 0.1', '--dropout 0.0'),
    'lsun_horse_nodropout.pt',
    'LSUN horse 256x256, trained without dropout',
  ),
  'improved-imagenet64-uncond': improved(
    'denoiser',
    '--image_size 64 --num_channels 128 --num_res_blocks 3 --learn_sigma True',
    IMPROVED_COSINE,
    'imagenet64_uncond_100M_1500K.pt',
    'ImageNet-64, unconditional, L_hybrid, cosine schedule',
  ),
  'improved-cifar10-uncond': improved(
    'denoiser',
    '--image_size 32 --num_channels 128 --num_res_blocks 3 --learn_sigma True --dropout 0.3',
    IMPROVED_COSINE,
    'cifar10_uncond_50M_500K.pt',
    'CIFAR-10, unconditional, L_hybrid, cosine schedule',
  ),
  'improved-imagenet64-cond': improved(
    'denoiser',
    '--image_size 64 --num_channels 192 --num_res_blocks 3 --learn_sigma True --class_cond True',
    '--diffusion_steps 4000 --noise_schedule cosine --rescale_learned_sigmas False --rescale_timesteps False',
    'imagenet64_cond_270M_250K.pt',
    'ImageNet-64, class-conditional (270M parameters, 250K iterations)',
  ),
  'improved-upsample-256': improved(
    'super-resolution',
    '--num_channels 192 --num_res_blocks 2 --learn_sigma True --class_cond True',
    '--diffusion_steps 4000 --noise_schedule linear --rescale_learned_sigmas False --rescale_timesteps False',
    'upsample_cond_500K.pt',
    'ImageNet 64 -> 256 upsampler, class-conditional (280M parameters)',
  ),
  'improved-lsun-bedroom-1200k': improved(
    'denoiser',
    IMPROVED_LSUN,
    IMPROVED_LSUN_DIFFUSION,
    'lsun_uncond_100M_1200K_bs128.pt',
    'LSUN bedroom 256x256 (lr=1e-4)',
  ),
  'improved-lsun-bedroom-2400k': improved(
    'denoiser',
    IMPROVED_LSUN,
    `${IMPROVED_LSUN_DIFFUSION} --use_scale_shift_norm False`,
    'lsun_uncond_100M_2400K_bs64.pt',
    'LSUN bedroom 256x256 (lr=2e-5)',
  ),
  'improved-imagenet64-uncond-vlb': improved(
    'denoiser',
    '--image_size 64 --num_channels 128 --num_res_blocks 3 --learn_sigma True',
    `${IMPROVED_COSINE} --use_kl True`,
    'imagenet64_uncond_vlb_100M_1500K.pt',
    'ImageNet-64, unconditional, L_vlb, cosine schedule',
  ),
  'improved-cifar10-uncond-vlb': improved(
    'denoiser',
    '--image_size 32 --num_channels 128 --num_res_blocks 3 --learn_sigma True --dropout 0.3',
    `${IMPROVED_COSINE} --use_kl True`,
    'cifar10_uncond_vlb_50M_500K.pt',
    'CIFAR-10, unconditional, L_vlb, cosine schedule',
  ),
} as const satisfies Readonly<Record<string, PublishedModel>>;

export type PublishedModelName = keyof typeof PUBLISHED_MODELS;

/** The flag strings of a published model, as `planAdmModel` / `convertAdmCheckpoint` take them. */
export function publishedModelFlags(name: string): AdmFlagStrings {
  const model = (PUBLISHED_MODELS as Readonly<Record<string, PublishedModel>>)[name];
  if (!model) {
    throw new DiffusionError(
      'invalid-argument',
      `unknown preset ${JSON.stringify(name)}; known presets: ${Object.keys(PUBLISHED_MODELS).join(', ')}`,
    );
  }
  return model.kind === 'classifier'
    ? { from: model.from, classifierFlags: model.flags, diffusionFlags: model.diffusionFlags }
    : { from: model.from, modelFlags: model.flags, diffusionFlags: model.diffusionFlags, superResolution: model.kind === 'super-resolution' };
}
