import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type DiffusionModel, type NoiseSchedule } from '@tfjs-diffusion/core';
import { sampleDdim, sampleDdpm } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierFreeGuidance } from './classifier-free-guidance.js';
import { classifierGuidance } from './classifier-guidance.js';
import { createMixtureClassifier, createMixtureDenoiser, type GaussianMixture } from './test-utils/gaussian-mixture.js';

// End to end on exact 1-D mixtures: guidance with real samplers, 25 respaced steps, 1000 samples.
// Class 1 (the minority component, weight 0.2, on the right) is always the one asked for.
const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const schedule = respaceSchedule(full, 'ddim25');
const samples = 1000;
/** Well separated: the classes barely overlap. */
const separated: GaussianMixture = { means: [-1.5, 1.5], stds: [0.3, 0.3], weights: [0.8, 0.2] };
/** Overlapping: even the exact class-conditional model puts mass on the wrong side. */
const overlapping: GaussianMixture = { means: [-0.75, 0.75], stds: [0.5, 0.5], weights: [0.8, 0.2] };

type SamplerName = 'ddim' | 'ddpm';

interface Statistics {
  /** Fraction of samples on the requested side, x > 0. */
  readonly onRequestedSide: number;
  /** Mean exact posterior p(y = 1 | x) of the clean data distribution: how class-like the samples are. */
  readonly confidence: number;
  readonly mean: number;
  readonly std: number;
}

async function sample(model: DiffusionModel, sampler: SamplerName, noiseSchedule: NoiseSchedule = schedule): Promise<number[]> {
  const classLabels = tf.fill([samples], 1, 'int32') as tf.Tensor1D;
  const options = {
    model,
    schedule: noiseSchedule,
    shape: [samples, 1],
    noise: createNoiseSource(`guidance trend ${sampler}`),
    condition: { classLabels },
  };
  const x = sampler === 'ddim' ? await sampleDdim({ ...options, eta: 0 }) : await sampleDdpm(options);
  const values = Array.from(x.dataSync());
  tf.dispose([x, classLabels]);
  return values;
}

function statistics(values: number[], mixture: GaussianMixture): Statistics {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const std = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
  const posterior = (x: number): number => {
    const logits = mixture.means.map(
      (mu, k) =>
        Math.log(mixture.weights[k] as number) - Math.log(mixture.stds[k] as number) - (x - mu) ** 2 / (2 * (mixture.stds[k] as number) ** 2),
    );
    return 1 / (1 + Math.exp((logits[0] as number) - (logits[1] as number)));
  };
  return {
    onRequestedSide: values.filter((value) => value > 0).length / values.length,
    confidence: values.reduce((sum, value) => sum + posterior(value), 0) / values.length,
    mean,
    std,
  };
}

function report(label: string, scales: readonly number[], rows: readonly Statistics[]): void {
  if (!process.env['GUIDANCE_TREND_LOG']) return;
  rows.forEach((row, position) => {
    console.info(
      `${label} scale ${scales[position]}: side ${row.onRequestedSide.toFixed(3)} confidence ${row.confidence.toFixed(3)} ` +
        `mean ${row.mean.toFixed(3)} std ${row.std.toFixed(3)}`,
    );
  });
}

function increasing(values: readonly number[]): boolean {
  return values.every((value, position) => position === 0 || value > (values[position - 1] as number));
}

function nonDecreasing(values: readonly number[]): boolean {
  return values.every((value, position) => position === 0 || value >= (values[position - 1] as number));
}

describe('guidance end to end on exact Gaussian mixtures', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const scales = [0, 1, 3, 10];

  for (const sampler of ['ddim', 'ddpm'] as const) {
    it(`classifier guidance moves a weak model's mass to the requested class, more as s grows (${sampler})`, async () => {
      // The "conditional" model ignores its labels (the exact unconditional denoiser); only the
      // exact noise-aware classifier knows the class.
      for (const mixture of [separated, overlapping]) {
        const classifier = createMixtureClassifier(mixture, full.alphaBars);
        const weak = createMixtureDenoiser({ mixture, alphaBars: full.alphaBars, mode: 'unconditional' });
        const sweep = mixture === separated ? [0, 0.3, ...scales.slice(1)] : scales;
        const rows: Statistics[] = [];
        for (const scale of sweep) rows.push(statistics(await sample(classifierGuidance({ classifier, scale })(weak), sampler), mixture));
        report(`classifier ${sampler} ${mixture === separated ? 'separated' : 'overlapping'}`, sweep, rows);

        const side = rows.map((row) => row.onRequestedSide);
        // Unguided, about the class weight 0.2 lands on the requested side.
        expect(side[0]).toBeGreaterThan(0.15);
        expect(side[0]).toBeLessThan(0.32);
        expect(nonDecreasing(side)).toBe(true);
        expect(side[1]).toBeGreaterThan((side[0] as number) + 0.15);
        expect(side[side.length - 1]).toBeGreaterThan(0.99);
        // Class-likeness grows with s (strictly where the classes overlap; it saturates at 1 where they do not).
        const confidence = rows.map((row) => row.confidence);
        expect(mixture === overlapping ? increasing(confidence) : nonDecreasing(confidence)).toBe(true);
        expect(increasing(rows.map((row) => row.mean))).toBe(true);
      }
    });

    it(`classifier-free guidance trades diversity for fidelity as w grows (${sampler})`, async () => {
      const model = createMixtureDenoiser({ mixture: overlapping, alphaBars: full.alphaBars });
      const rows: Statistics[] = [];
      for (const scale of scales) rows.push(statistics(await sample(classifierFreeGuidance({ scale })(model), sampler), overlapping));
      report(`classifier-free ${sampler} overlapping`, scales, rows);

      // w = 0 is the exact conditional model: mean near mu_1 = 0.75, most mass already on the right.
      expect(rows[0]?.mean).toBeGreaterThan(0.65);
      expect(rows[0]?.mean).toBeLessThan(0.85);
      expect(rows[0]?.onRequestedSide).toBeGreaterThan(0.88);
      // Fidelity up: the mean moves beyond the requested mode and the samples get more class-like.
      expect(increasing(rows.map((row) => row.mean))).toBe(true);
      expect(rows[3]?.mean).toBeGreaterThan(1.4);
      expect(increasing(rows.map((row) => row.confidence))).toBe(true);
      expect(nonDecreasing(rows.map((row) => row.onRequestedSide))).toBe(true);
      // Diversity down: the spread shrinks (strictly along the deterministic DDIM path; for
      // ancestral DDPM every guided w is tighter than the unguided model).
      const spread = rows.map((row) => row.std);
      if (sampler === 'ddim') expect(increasing(spread.map((std) => -std))).toBe(true);
      for (const std of spread.slice(1)) expect(std).toBeLessThan((spread[0] as number) * 0.85);
    });
  }

  it('with exact parts, classifier guidance at s = 1 on the unconditional model samples the conditional one (DDIM, ADM Algorithm 2)', async () => {
    const classifier = createMixtureClassifier(overlapping, full.alphaBars);
    const unconditional = createMixtureDenoiser({ mixture: overlapping, alphaBars: full.alphaBars, mode: 'unconditional' });
    const conditional = createMixtureDenoiser({ mixture: overlapping, alphaBars: full.alphaBars });
    const guided = await sample(classifierGuidance({ classifier, scale: 1 })(unconditional), 'ddim');
    const expected = await sample(conditional, 'ddim');
    const largest = guided.reduce((worst, value, position) => Math.max(worst, Math.abs(value - (expected[position] as number))), 0);
    expect(largest).toBeLessThan(1e-3);
  });

  it('gives the same guided samples for epsilon, x0 and v models (linearity), and leaks nothing', async () => {
    const short = respaceSchedule(full, '10');
    for (const sampler of ['ddim', 'ddpm'] as const) {
      const models = (['epsilon', 'x0', 'v'] as const).map((prediction) =>
        classifierFreeGuidance({ scale: 2 })(createMixtureDenoiser({ mixture: separated, alphaBars: full.alphaBars, prediction })),
      );
      const before = tf.memory().numTensors;
      const [fromEpsilon, fromX0, fromV] = await Promise.all(models.map((model) => sample(model, sampler, short)));
      expect(tf.memory().numTensors).toBe(before);
      for (const other of [fromX0, fromV]) {
        other?.forEach((value, position) => expect(Math.abs(value - (fromEpsilon?.[position] as number))).toBeLessThan(1e-4));
      }
    }
  });
});
