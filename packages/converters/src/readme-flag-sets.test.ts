import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { modelMetadataEntries, readModelMetadata } from '@tfjs-diffusion/checkpoints';
import { describe, expect, it } from 'vitest';
import type { AdmModelKind, AdmSource } from './adm-flags.js';
import { planAdmModel } from './adm-model-config.js';
import { countTorchParameters, expectedTorchShapes } from './convert-checkpoint.js';
import { PUBLISHED_MODELS, publishedModelFlags } from './published-models.js';

/**
 * Every flag set of the two READMEs, measured with the ORIGINAL code by
 * scripts/torch-fixtures/published_shapes.py: state_dict tensor count, parameter count and the
 * SHA-256 of the sorted "name:shape" lines of the PyTorch model the flags build.
 */
interface MeasuredFlagSet {
  readonly from: AdmSource;
  readonly kind: AdmModelKind;
  readonly flags: string;
  readonly diffusionFlags: string;
  readonly tensors: number;
  readonly parameters: number;
  readonly sha256: string;
}
const measured = JSON.parse(readFileSync(new URL('../fixtures/published-shapes.json', import.meta.url), 'utf8')) as {
  flagSets: Record<string, MeasuredFlagSet>;
};

describe('every flag set of the guided-diffusion and improved-diffusion READMEs', () => {
  it('has a preset for every published checkpoint, with the flags the measurement used', () => {
    const published = Object.keys(measured.flagSets).filter((name) => !name.startsWith('readme:'));
    expect(published.sort()).toEqual(Object.keys(PUBLISHED_MODELS).sort());
    for (const name of published) {
      const preset = (PUBLISHED_MODELS as Record<string, { flags: string; diffusionFlags: string; kind: string; from: string }>)[name];
      const set = measured.flagSets[name] as MeasuredFlagSet;
      expect({ flags: preset?.flags, diffusionFlags: preset?.diffusionFlags, kind: preset?.kind, from: preset?.from }).toEqual({
        flags: set.flags,
        diffusionFlags: set.diffusionFlags,
        kind: set.kind,
        from: set.from,
      });
    }
  });

  for (const [name, set] of Object.entries(measured.flagSets)) {
    it(`${name}: the converter's network has the state_dict names and shapes of the original model (${(set.parameters / 1e6).toFixed(1)} M parameters)`, () => {
      const strings = name.startsWith('readme:')
        ? set.kind === 'classifier'
          ? { from: set.from, classifierFlags: set.flags, diffusionFlags: set.diffusionFlags }
          : { from: set.from, modelFlags: set.flags, diffusionFlags: set.diffusionFlags, superResolution: set.kind === 'super-resolution' }
        : publishedModelFlags(name);
      const plan = planAdmModel(strings);
      expect(plan.kind).toBe(set.kind);
      const shapes = expectedTorchShapes(plan);
      const lines = [...shapes].map(([tensor, shape]) => `${tensor}:${shape.join(',')}`).sort();
      const parameters = [...shapes.values()].reduce((total, shape) => total + shape.reduce((product, size) => product * size, 1), 0);
      expect({ tensors: lines.length, parameters }).toEqual({ tensors: set.tensors, parameters: set.parameters });
      expect(createHash('sha256').update(lines.join('\n')).digest('hex')).toBe(set.sha256);
      // the model file's metadata validator accepts what the converter writes (fractional multipliers included)
      const metadata = readModelMetadata(modelMetadataEntries(plan.metadata, {}), name);
      expect(metadata.network).toEqual(plan.network);
    });
  }
});

describe('parameter counts computed from the flags alone', () => {
  it('gives the sizes the issue and the docs table state: ImageNet-64 ADM 296 M, its classifier 65 M, CIFAR-10 52.5 M, the 64->256 upsampler 312 M', () => {
    const count = (name: string): number => countTorchParameters(planAdmModel(publishedModelFlags(name)));
    expect(count('guided-64x64')).toBe(295_904_454);
    expect(Math.round(count('guided-64x64') / 1e6)).toBe(296);
    expect(count('guided-64x64-classifier')).toBe(65_438_568);
    expect(Math.round(count('guided-64x64-classifier') / 1e6)).toBe(65);
    expect(count('improved-cifar10-uncond')).toBe(52_546_438);
    expect(count('guided-64-256-upsampler')).toBe(311_795_910);
  });
});

describe('planAdmModel', () => {
  it('names unknown and ill-typed flags', () => {
    expect(() => planAdmModel({ from: 'improved-diffusion', modelFlags: '--image_size 64 --use_new_attention_order True' })).toThrow(
      /unknown improved-diffusion model flag --use_new_attention_order/,
    );
    expect(() => planAdmModel({ from: 'guided-diffusion', modelFlags: '--image_size 64 --num_chanels 128' })).toThrow(
      /unknown guided-diffusion model flag --num_chanels/,
    );
    expect(() => planAdmModel({ from: 'guided-diffusion', modelFlags: '--learn_sigma maybe' })).toThrow(/--learn_sigma: boolean value expected/);
    expect(() => planAdmModel({ from: 'guided-diffusion', modelFlags: '--image_size 96' })).toThrow(/--image_size 96 is not supported/);
    expect(() => planAdmModel({ from: 'guided-diffusion', modelFlags: '--num_channels' })).toThrow(/flag --num_channels needs a value/);
    expect(() => planAdmModel({ from: 'improved-diffusion', classifierFlags: '--image_size 64' })).toThrow(
      /improved-diffusion has no noise-aware classifier/,
    );
    expect(() => planAdmModel({ from: 'guided-diffusion', modelFlags: '--noise_schedule sqrt' })).toThrow(
      /--noise_schedule must be linear or cosine/,
    );
  });

  it("accepts the READMEs' SAMPLE_FLAGS and TRAIN_FLAGS beside the model flags, changing nothing", () => {
    const plain = planAdmModel(publishedModelFlags('improved-cifar10-uncond'));
    const withScripts = planAdmModel({
      ...publishedModelFlags('improved-cifar10-uncond'),
      diffusionFlags:
        '--diffusion_steps 4000 --noise_schedule cosine --lr 1e-4 --batch_size 128 --schedule_sampler loss-second-moment --num_samples 100',
    });
    expect(withScripts.network).toEqual(plain.network);
    expect(withScripts.sampling).toMatchObject({ lr: '1e-4', batch_size: '128' });
  });

  it('maps learn_sigma, predict_xstart, rescale_timesteps, respacing and the attention order', () => {
    const cifar = planAdmModel(publishedModelFlags('improved-cifar10-uncond'));
    expect(cifar.network).toMatchObject({
      variance: 'learned-range',
      timestepScale: 0.25,
      attentionOrder: 'heads-first',
      attentionResolutions: [16, 8],
      numHeads: 4,
      dropout: 0.3,
    });
    expect(cifar.metadata.schedule).toEqual({ kind: 'cosine', timesteps: 4000 });
    const guided64 = planAdmModel({ ...publishedModelFlags('guided-64x64'), diffusionFlags: '--timestep_respacing ddim25 --predict_xstart True' });
    expect(guided64.network).toMatchObject({
      attentionOrder: 'qkv-first',
      numHeadChannels: 64,
      timestepScale: 1,
      prediction: 'x0',
      numClasses: 1000,
    });
    expect(guided64.metadata.schedule).toEqual({ kind: 'cosine', timesteps: 1000, respacing: 'ddim25' });
    expect(guided64.metadata.conditioning).toEqual({ numClasses: 1000, nullClass: null });
    const sigmaSmall = planAdmModel({ from: 'improved-diffusion', modelFlags: '--image_size 32 --sigma_small True' });
    expect(sigmaSmall.metadata.variance).toBe('fixed-small');
    const upsampler = planAdmModel(publishedModelFlags('guided-128-512-upsampler'));
    expect(upsampler.network).toMatchObject({ imageSize: 512, lowResolutionSize: 128, channelMultipliers: [1, 1, 2, 2, 4, 4] });
    expect(planAdmModel(publishedModelFlags('guided-512x512')).network).toMatchObject({ channelMultipliers: [0.5, 1, 1, 2, 2, 4, 4] });
  });
});
